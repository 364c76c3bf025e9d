// Passkeys (WebAuthn): adding one on Settings → Passkeys (#passkey-register) and signing in
// with one (#passkey-signin). The server sends the options as JSON with binary fields in
// base64url; the browser API wants ArrayBuffers, and its answer goes back as base64url again.
// Each form names its two endpoints (data-start, data-finish) and carries the session's CSRF
// token, sent in the X-CSRF-Token header.
"use strict";

(() => {
  function fromBase64url(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: fromBase64url(c.id) }));
  }

  async function post(form, url, body) {
    const csrf = form.querySelector("input[name=csrf_token]").value;
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await res.json();
    } catch (_) {
      data = null;
    }
    if (!res.ok) {
      const message = data && data.error && data.error.message;
      throw new Error(message || "The server refused (" + res.status + "). Reload and try again.");
    }
    return data;
  }

  async function register(form) {
    const name = form.querySelector("input[name=name]").value;
    const options = await post(form, form.dataset.start, { name: name });
    const publicKey = options.publicKey;
    publicKey.challenge = fromBase64url(publicKey.challenge);
    publicKey.user.id = fromBase64url(publicKey.user.id);
    publicKey.excludeCredentials = withIds(publicKey.excludeCredentials);
    const credential = await navigator.credentials.create({ publicKey: publicKey });
    const response = credential.response;
    await post(form, form.dataset.finish, {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toBase64url(response.attestationObject),
        clientDataJSON: toBase64url(response.clientDataJSON),
        transports: response.getTransports ? response.getTransports() : [],
      },
      extensions: {},
    });
    window.location.assign(window.location.pathname);
  }

  async function signIn(form) {
    const returnTo = form.querySelector("input[name=return_to]").value;
    const options = await post(form, form.dataset.start, { return_to: returnTo });
    const publicKey = options.publicKey;
    publicKey.challenge = fromBase64url(publicKey.challenge);
    publicKey.allowCredentials = withIds(publicKey.allowCredentials);
    const credential = await navigator.credentials.get({ publicKey: publicKey });
    const response = credential.response;
    const done = await post(form, form.dataset.finish, {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toBase64url(response.authenticatorData),
        clientDataJSON: toBase64url(response.clientDataJSON),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
      },
      extensions: {},
    });
    window.location.assign(done.redirect);
  }

  function wire(formId, errorId, ceremony) {
    const form = document.getElementById(formId);
    const error = document.getElementById(errorId);
    if (!form) {
      return;
    }
    if (!window.PublicKeyCredential) {
      error.textContent = "This browser does not support passkeys.";
      error.hidden = false;
      form.querySelector("button").disabled = true;
      return;
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      error.hidden = true;
      ceremony(form).catch((err) => {
        // A dismissed browser dialog is a NotAllowedError: say so plainly.
        error.textContent = err && err.name === "NotAllowedError"
          ? "The passkey request was cancelled or timed out."
          : (err && err.message) || "Something went wrong.";
        error.hidden = false;
        button.disabled = false;
      });
    });
  }

  wire("passkey-register", "passkey-register-error", register);
  wire("passkey-signin", "passkey-signin-error", signIn);
  // The same ceremony as the second step after a password, or for step-up.
  wire("passkey-second-factor", "passkey-second-factor-error", signIn);
})();
