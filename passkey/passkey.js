// passkey.js: the browser side of github.com/sessionauth/session/passkey.
// Load it from the Handler (<script src="/passkey/passkey.js"></script>);
// it calls the Handler's JSON endpoints next to it and defines
// window.passkey. No framework, no build step. Every method returns a
// Promise; a refused request rejects with an Error whose .code is the
// Handler's error code ("not_signed_in", "challenge", …) and .status the
// HTTP status; a ceremony the user cancels rejects with the browser's
// NotAllowedError.
(function () {
  "use strict";
  var script = document.currentScript;
  var prefix = (script && script.dataset.prefix) || new URL(".", script.src).pathname;

  function toBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), b = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
    return b.buffer;
  }

  function toB64url(buf) {
    var b = new Uint8Array(buf), s = "";
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function post(path, body) {
    var res = await fetch(prefix + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    var data = await res.json().catch(function () { return { error: "bad_response" }; });
    if (!res.ok) {
      var err = new Error("passkey: " + (data.error || res.status));
      err.code = data.error;
      err.status = res.status;
      throw err;
    }
    return data;
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: toBuf(d.id) });
    });
  }

  function creationOptions(o) {
    o.challenge = toBuf(o.challenge);
    o.user.id = toBuf(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return o;
  }

  function requestOptions(o) {
    o.challenge = toBuf(o.challenge);
    if (o.allowCredentials) o.allowCredentials = descriptors(o.allowCredentials);
    return o;
  }

  function credentialJSON(c) {
    var r = c.response, out = {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) out.response.userHandle = toB64url(r.userHandle);
    }
    return out;
  }

  // A sign-in waiting in the browser's autofill UI; the other ceremonies
  // abort it first, as a page may run only one at a time.
  var pending = null;
  function abortAutofill() {
    if (pending) {
      pending.abort();
      pending = null;
    }
  }

  async function get(beginPath, finishPath, mediation) {
    var o = await post(beginPath);
    var opts = { publicKey: requestOptions(o.publicKey) };
    if (mediation) {
      pending = new AbortController();
      opts.mediation = mediation;
      opts.signal = pending.signal;
    }
    var c = await navigator.credentials.get(opts);
    pending = null;
    return post(finishPath, credentialJSON(c));
  }

  window.passkey = {
    // supported reports whether the browser can use passkeys at all.
    supported: function () {
      return !!(window.PublicKeyCredential && navigator.credentials);
    },
    // autofillAvailable reports whether the browser offers passkeys in
    // the autofill UI of an <input autocomplete="username webauthn">.
    autofillAvailable: async function () {
      return !!(window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable &&
        (await PublicKeyCredential.isConditionalMediationAvailable()));
    },
    // register adds a passkey for the signed-in user, named name, and
    // resolves to it: {id, name, created, synced}. It needs a recent proof
    // of identity: when the session's last one is too old it rejects with
    // code "insufficient_user_authentication"; confirm (stepUp, or the
    // app's password page for a user without a passkey) and call it again.
    register: async function (name) {
      abortAutofill();
      var o = await post("register/begin");
      var c = await navigator.credentials.create({ publicKey: creationOptions(o.publicKey) });
      return post("register/finish", { credential: credentialJSON(c), name: name || "" });
    },
    // signIn signs in with a passkey, without a username. With
    // {autofill: true} it waits for the user to pick a passkey in the
    // autofill UI (call it on page load); otherwise the browser asks now.
    signIn: function (opts) {
      abortAutofill();
      return get("signin/begin", "signin/finish", opts && opts.autofill ? "conditional" : "");
    },
    // stepUp confirms, with one of the signed-in user's passkeys, that it
    // is still them; the session records the fresh proof.
    stepUp: function () {
      abortAutofill();
      return get("stepup/begin", "stepup/finish", "");
    },
    // list resolves to the signed-in user's passkeys, oldest first.
    list: function () {
      return post("list").then(function (d) { return d.passkeys; });
    },
    rename: function (id, name) {
      return post("rename", { id: id, name: name });
    },
    // remove removes one of the user's passkeys. Like register, it needs a
    // recent proof ("insufficient_user_authentication" otherwise).
    remove: function (id) {
      return post("remove", { id: id });
    },
  };
})();
