// Lesson editor niceties: autosave every 20 s when the text changed, a local copy of the draft
// (so a lost connection or an expired session loses nothing), and a warning near the size limit.
(function () {
  "use strict";
  var form = document.getElementById("lesson-editor");
  if (!form) { return; }
  var body = form.querySelector("textarea[name=body]");
  var version = form.querySelector("input[name=version]");
  var status = document.getElementById("editor-status");
  var key = "lms-draft-" + form.dataset.draftKey;
  var max = parseInt(form.dataset.max, 10);
  var saved = body.value;
  var local = window.localStorage ? localStorage.getItem(key) : null;
  if (local && local !== body.value) {
    body.value = local;
    status.textContent = form.dataset.msgRestored;
  }
  function remember() {
    try { localStorage.setItem(key, body.value); } catch (e) { /* storage full or disabled */ }
    if (body.value.length > max * 0.9) {
      status.textContent = form.dataset.msgLimit;
    }
  }
  body.addEventListener("input", remember);
  form.addEventListener("submit", function () { try { localStorage.removeItem(key); } catch (e) {} });
  setInterval(function () {
    if (body.value === saved) { return; }
    var data = new FormData(form);
    data.set("action", "autosave");
    fetch(form.dataset.autosave, { method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        if (res[0] === 200 && res[1].saved) {
          saved = data.get("body"); version.value = res[1].version;
          status.textContent = form.dataset.msgSaved + " " + new Date().toLocaleTimeString("vi-VN") + ".";
        } else if (res[0] === 409) {
          status.textContent = form.dataset.msgConflict;
        }
      })
      .catch(function () { status.textContent = form.dataset.msgOffline; });
  }, 20000);
})();
