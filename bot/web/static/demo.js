// Shows the embed snippet with this server's real address (a file, not an inline
// script: the pages' Content-Security-Policy allows scripts from this origin only).
(function () {
  "use strict";

  document.getElementById("snippet").textContent =
    `<script src="${location.origin}/webhooks/chat/widget.js"></script>`;
})();
