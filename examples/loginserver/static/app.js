// loginserver's one script, loaded from this origin (the
// Content-Security-Policy allows 'self' and nothing inline). Without it every
// page still works: it only adds the show-password buttons, which the HTML
// ships hidden.
"use strict";
for (const button of document.querySelectorAll("button[data-reveal]")) {
  const input = document.getElementById(button.dataset.reveal);
  if (!input) continue;
  const word = button.querySelector(".word");
  button.hidden = false;
  button.addEventListener("click", () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    word.textContent = show ? "Hide" : "Show";
    input.focus();
  });
  // The password is never submitted from a text field, so the browser's
  // password manager sees a password field.
  input.form?.addEventListener("submit", () => {
    input.type = "password";
    word.textContent = "Show";
  });
}

// Passkeys (package passkey's /passkey/passkey.js, loaded before this file,
// defines window.passkey). Every control ships hidden (class js-only) and is
// shown only where the browser can use passkeys.
(() => {
  const pk = window.passkey;
  if (!pk || !pk.supported()) return;
  for (const el of document.querySelectorAll(".js-only")) el.hidden = false;
  const home = () => location.assign("/");
  const showError = (e) => {
    if (e && e.name === "NotAllowedError") return; // the user cancelled
    const p = document.getElementById("passkey-error");
    if (!p) return;
    p.textContent = "That did not work" + (e && e.code ? " (" + e.code + ")" : "") + ". Please try again.";
    p.hidden = false;
  };

  // Sign-in page: a button, and the browser's autofill on the username.
  const signIn = document.getElementById("signin-passkey");
  if (signIn) {
    signIn.hidden = false;
    signIn.addEventListener("click", () => pk.signIn().then(home, showError));
    pk.autofillAvailable().then((ok) => {
      if (ok) pk.signIn({ autofill: true }).then(home, () => {});
    });
  }

  // Account page: add, rename, remove. Adding and removing need a recent
  // proof, adding one by someone at the keyboard (not a provider's single
  // sign-on): on insufficient_user_authentication, whatever its reason
  // ("stale" or "method"), adding goes to the confirm page, which says why
  // (the first passkey cannot confirm anything yet), removing steps up with
  // a passkey and retries.
  const add = document.getElementById("add-passkey-form");
  if (add) {
    add.addEventListener("submit", (ev) => {
      ev.preventDefault();
      pk.register(document.getElementById("passkey-name").value).then(
        () => location.reload(),
        (e) => (e.code === "insufficient_user_authentication" ? location.assign("/confirm?return=%2F") : showError(e)),
      );
    });
  }
  for (const row of document.querySelectorAll("[data-passkey]")) {
    const id = row.dataset.passkey;
    row.querySelector("[data-rename]").addEventListener("click", () => {
      const name = prompt("New name for this passkey", row.dataset.name);
      if (name) pk.rename(id, name).then(() => location.reload(), showError);
    });
    row.querySelector("[data-remove]").addEventListener("click", () => {
      pk.remove(id)
        .catch((e) => {
          if (e.code !== "insufficient_user_authentication") throw e;
          return pk.stepUp().then(() => pk.remove(id));
        })
        .then(() => location.reload(), showError);
    });
  }

  // Confirm page: step up with a passkey, then go back.
  const confirm = document.getElementById("confirm-passkey");
  if (confirm) {
    const back = confirm.dataset.return === "/password" ? "/password" : "/";
    confirm.addEventListener("click", () => pk.stepUp().then(() => location.assign(back), showError));
  }
})();
