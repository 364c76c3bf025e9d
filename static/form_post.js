// Submits the authorization answer to the app as soon as the page is read (OAuth 2.0 Form Post
// Response Mode §2). Loaded as a file because the CSP allows no inline script; without script
// the page's button does the same.
"use strict";

const form = document.querySelector("form[data-auto-submit]");
if (form) {
  form.submit();
}
