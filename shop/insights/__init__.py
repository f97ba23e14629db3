"""Manager insights (经营分析): ticket volume and service commitments, satisfaction,
conversation containment, deadline alerts. Figures come from the records and from
Rasa's tracker store; labels and thresholds from `knowledge/reports.yml`."""
