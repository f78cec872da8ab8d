/* Starts the embedded Jitsi meeting from the container's data-* attributes (no inline script). */
(function () {
  "use strict";
  var node = document.getElementById("jitsi-room");
  if (!node || typeof window.JitsiMeetExternalAPI !== "function") { return; }
  var options = {
    roomName: node.getAttribute("data-room"),
    parentNode: node,
    width: "100%",
    height: "100%",
    lang: document.documentElement.lang || "vi",
    userInfo: { displayName: node.getAttribute("data-name") || "" }
  };
  var jwt = node.getAttribute("data-jwt");
  if (jwt) { options.jwt = jwt; }
  new window.JitsiMeetExternalAPI(node.getAttribute("data-domain"), options);
}());
