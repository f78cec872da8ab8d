/* Quiz attempt page: autosave, a local draft for lost connections, one tap on "Submit".
   Without JavaScript the page still works: "Save answers" and "Submit" are plain form posts. */
(function () {
  "use strict";

  var PREFIX = "lms-quiz-draft:";

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }  // private mode, old phones
  }

  // The review page clears the draft of the attempt it shows: that attempt is done.
  var done = document.querySelector("[data-clear-draft]");
  if (done && storage()) { storage().removeItem(PREFIX + done.getAttribute("data-clear-draft")); }

  var form = document.getElementById("quiz-form");
  if (!form) { return; }
  var key = PREFIX + form.getAttribute("data-attempt");
  var revision = form.querySelector("input[name=revision]");
  var statusLine = document.getElementById("quiz-status");
  var submitButton = form.querySelector("[data-submit]");
  var DELAY = 1500;
  var timer = null;
  var inflight = null;
  var again = false;
  var submitting = false;
  var stopped = false;
  var lastButton = null;

  function say(name) { statusLine.textContent = form.getAttribute("data-msg-" + name) || ""; }

  function isAnswer(el) { return el.name && /^a\d+/.test(el.name); }

  // The answers on the page as {field name: [values]}, blanks included.
  function snapshot() {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!isAnswer(el)) { return; }
      out[el.name] = out[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { out[el.name].push(el.value); }
      } else {
        out[el.name].push(el.value);
      }
    });
    return out;
  }

  function apply(values) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!isAnswer(el) || !Object.prototype.hasOwnProperty.call(values, el.name)) { return; }
      var wanted = values[el.name];
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = wanted.indexOf(el.value) >= 0;
      } else {
        el.value = wanted[0] || "";
      }
    });
  }

  function keepDraft() {
    var store = storage();
    if (!store) { return; }
    try {
      store.setItem(key, JSON.stringify({ revision: Number(revision.value), answers: snapshot() }));
    } catch (e) { /* storage full: autosave still runs */ }
  }

  function readDraft() {
    var store = storage();
    try { return store ? JSON.parse(store.getItem(key) || "null") : null; } catch (e) { return null; }
  }

  function dropDraftIfSaved(sent) {
    var store = storage();
    if (store && JSON.stringify(snapshot()) === sent) { store.removeItem(key); }
  }

  function token() {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function save() {
    timer = null;
    if (stopped) { return; }
    if (inflight) { again = true; return; }
    var sent = JSON.stringify(snapshot());
    say("saving");
    inflight = fetch(form.getAttribute("action"), {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { "X-CSRFToken": token(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      var data = result.data || {};
      if (data.saved) {
        revision.value = data.revision;
        dropDraftIfSaved(sent);
        say("saved");
      } else if (result.status === 409 || result.status === 401) {
        stopped = true;  // the server will not take more saves from this page: say why
        say(data.error === "submitted" ? "submitted" : data.error === "signed_out" ? "signed-out" : "stale");
      } else {
        say("offline");
      }
    }).catch(function () {
      say("offline");  // the draft stays in localStorage; "online" tries again
    }).then(function () {
      inflight = null;
      if (again && !submitting) { again = false; schedule(); }
    });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, DELAY);
  }

  function changed(event) {
    if (!isAnswer(event.target) || submitting) { return; }
    keepDraft();
    schedule();
  }

  form.addEventListener("change", changed);
  form.addEventListener("input", changed);
  window.addEventListener("online", function () { if (readDraft() && !submitting) { save(); } });

  form.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button") : null;
    if (button) { lastButton = button; }
  });

  form.addEventListener("submit", function (event) {
    var button = event.submitter || lastButton;
    if (!button || !button.hasAttribute("data-submit")) { return; }  // "Save answers": a plain post
    if (submitting) { event.preventDefault(); return; }  // a second tap (REL-10)
    submitting = true;
    if (timer) { clearTimeout(timer); timer = null; }
    keepDraft();
    say("submitting");
    // Disabled after the browser has taken the click, so the post itself still goes out.
    setTimeout(function () { submitButton.disabled = true; }, 0);
    if (inflight) {
      // Wait for the autosave in flight: its new revision must go with the submit.
      event.preventDefault();
      inflight.then(function () {
        form.setAttribute("action", button.getAttribute("formaction"));
        form.submit();
      });
    }
  });

  // Back after a lost connection: put back what was answered on this phone but never saved.
  var draft = readDraft();
  if (draft && draft.answers) {
    if (draft.revision === Number(revision.value)) {
      if (JSON.stringify(draft.answers) !== JSON.stringify(snapshot())) {
        apply(draft.answers);
        say("restored");
        schedule();
      }
    } else if (storage()) {
      storage().removeItem(key);  // the server saved newer answers since this draft was made
    }
  }
})();
