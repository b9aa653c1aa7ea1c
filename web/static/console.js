// xaa-idp console: small enhancements over plain HTML forms and links.
// Every page works without this script.
"use strict";

// Assignment and deny editors: "Add a row" clones the blank template row.
document.addEventListener("click", (ev) => {
  const add = ev.target.closest("[data-add-row]");
  if (add) {
    const table = document.getElementById(add.dataset.addRow);
    const tpl = table.querySelector("template");
    const n = table.querySelectorAll("tbody tr").length;
    const row = tpl.content.firstElementChild.cloneNode(true);
    row.querySelectorAll("[name]").forEach((el) => { el.name = el.name.replace("__i__", n); });
    // Each field's label names its row, from 1 (__n__ in the template).
    row.querySelectorAll("[aria-label]").forEach((el) => {
      el.setAttribute("aria-label", el.getAttribute("aria-label").replace("__n__", n + 1));
    });
    table.querySelector("tbody").appendChild(row);
    const first = row.querySelector("input[type=text]");
    if (first) first.focus();
    const count = table.closest("form").querySelector("input[name=n]");
    if (count) count.value = n + 1;
  }
});

// A refused save's reason (above the editor) has autofocus; a browser
// that did not honour it (the page loaded in a background tab) gets the
// focus moved here, unless the admin has moved it already.
document.addEventListener("DOMContentLoaded", () => {
  const refusal = document.querySelector(".refusal[autofocus]");
  if (refusal && (document.activeElement === null || document.activeElement === document.body)) refusal.focus();
});

// A refusal's link to a field it names gives the field the focus, which
// the link alone does not: the browser scrolls to the field but leaves
// the focus where it was, so a keyboard user would still have to find it.
// For Enter the focus moves when the key is released: moved earlier, the
// rest of the key press would reach the field and submit its form again.
// A click without a key held (a pointer's, or the one a screen reader or
// voice control makes, of detail 0 like Enter's) moves it at once.
const linkedField = (ev) => {
  const a = ev.target.closest && ev.target.closest(".refusal a[href^='#']");
  const field = a && document.getElementById(decodeURIComponent(a.hash.slice(1)));
  return field && field.matches("input, select, textarea") ? field : null;
};
let enterHeld = null; // the link Enter went down on, until it is released
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && linkedField(ev)) enterHeld = ev.target;
});
document.addEventListener("click", (ev) => {
  const field = linkedField(ev);
  if (!field) return;
  ev.preventDefault();
  if (enterHeld !== ev.target) field.focus(); // Enter's is at keyup
});
document.addEventListener("keyup", (ev) => {
  if (ev.key !== "Enter") return;
  const held = enterHeld === ev.target;
  enterHeld = null;
  const field = held && linkedField(ev);
  if (field) field.focus();
});

// An editor's unsaved edits: leaving the server's page with them (the
// other editor's Save, an access request's decision, a link, a reload)
// asks first, rather than dropping them unseen; the editor being saved
// is not asked about. The page as served, a refused save's rows
// included, is what counts as unedited.
const edited = (form) => [...form.elements].some((el) =>
  (el.type === "checkbox" && el.checked !== el.defaultChecked) ||
  (el.type === "text" && el.value !== el.defaultValue));
let saving = null; // the form being sent, until the page is left
document.addEventListener("submit", (ev) => { saving = ev.target; });
window.addEventListener("beforeunload", (ev) => {
  const unsaved = [...document.querySelectorAll("#access-form, #deny-form")].some((f) => f !== saving && edited(f));
  saving = null;
  if (unsaved) {
    ev.preventDefault();
    ev.returnValue = "unsaved"; // browsers before preventDefault was honoured here
  }
});

// The "Add a row" buttons need this script, so they show only with it.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-add-row]").forEach((b) => { b.hidden = false; });
});

// Audit log live tail: server-sent events carry rendered, escaped rows.
document.addEventListener("DOMContentLoaded", () => {
  const btn = document.getElementById("live");
  if (!btn) return;
  btn.hidden = false; // it needs this script, so it shows only with it
  const status = document.getElementById("live-status");
  const tbody = document.querySelector("#events tbody");
  let source = null;
  const stop = (why) => {
    source.close();
    source = null;
    btn.setAttribute("aria-pressed", "false");
    btn.textContent = "Live tail: off";
    status.textContent = why;
  };
  btn.addEventListener("click", () => {
    if (source) {
      stop("");
      return;
    }
    source = new EventSource(btn.dataset.stream);
    btn.setAttribute("aria-pressed", "true");
    btn.textContent = "Live tail: on";
    source.onopen = () => { status.textContent = "waiting for new events…"; };
    // The browser reconnects by itself after a dropped connection; it
    // gives up (CLOSED) when the answer is no stream: the console session
    // ended and the request was sent to sign in, the filters were refused,
    // or too many live tails are open (429/503).
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        stop("stopped: the server ended or refused the live tail (the console session may have ended, or too many live tails are open: close one in another tab). Reload the page to sign in again or to see the error.");
      } else {
        status.textContent = "reconnecting…";
      }
    };
    source.addEventListener("audit", (e) => {
      tbody.insertAdjacentHTML("afterbegin", e.data);
      tbody.firstElementChild.classList.add("new");
      const none = document.getElementById("no-events");
      if (none) none.remove();
      status.textContent = "live";
    });
  });
});
