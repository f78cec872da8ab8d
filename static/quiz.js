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

  // The draft on this phone: the answers and the revision they belong to. `saved` marks answers
  // the server has stored at that revision, so a page built before that save (a reload racing
  // the reconnect save) can still recognise and show them.
  function keepDraft(saved, answers) {
    var store = storage();
    if (!store) { return; }
    try {
      store.setItem(key, JSON.stringify({ revision: Number(revision.value), saved: !!saved,
                                          answers: answers || snapshot() }));
    } catch (e) { /* storage full: autosave still runs */ }
  }

  function readDraft() {
    var store = storage();
    try { return store ? JSON.parse(store.getItem(key) || "null") : null; } catch (e) { return null; }
  }

  function markSaved(sent) {
    // Keep the draft, now tagged with the server's new revision; unsaved changes stay unsaved.
    if (JSON.stringify(snapshot()) === sent) { keepDraft(true, JSON.parse(sent)); } else { keepDraft(false); }
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
        markSaved(sent);
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
  window.addEventListener("online", function () {
    var draft = readDraft();
    if (draft && !draft.saved && !submitting) { save(); }
  });

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

  // Back after a lost connection or a reload: put back what this phone knows that the page does not.
  var draft = readDraft();
  var pageRevision = Number(revision.value);
  if (draft && draft.answers) {
    var differs = JSON.stringify(draft.answers) !== JSON.stringify(snapshot());
    if (draft.revision > pageRevision) {
      // This page was built before the phone's last save was stored: the draft is newer.
      revision.value = draft.revision;
      if (differs) { apply(draft.answers); say("restored"); }
      if (!draft.saved) { schedule(); }
    } else if (draft.revision === pageRevision && differs && !draft.saved) {
      apply(draft.answers);
      say("restored");
      schedule();
    } else if (draft.revision < pageRevision && storage()) {
      storage().removeItem(key);  // the server saved newer answers since this draft was made
    }
  }
})();
