"""The NLU pipeline's custom components (config.yml names them) and the jieba user
dictionary they are trained with; both read the shop's knowledge from shop/."""
