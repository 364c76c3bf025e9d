// Recovery codes page: "Download" saves the codes as a text file, "Copy" puts them on the
// clipboard. Both are built from the codes in the page; the page works without this file.
"use strict";

(() => {
  const list = document.getElementById("recovery-codes");
  if (!list) {
    return;
  }
  const text = () => {
    const codes = Array.from(list.querySelectorAll("code"), (c) => c.textContent.trim());
    return `Portcullis recovery codes (${location.host})\nEach code works once.\n\n${codes.join("\n")}\n`;
  };
  const download = document.getElementById("recovery-download");
  download.hidden = false;
  download.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([text()], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "portcullis-recovery-codes.txt";
    document.body.appendChild(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  });
  const copy = document.getElementById("recovery-copy");
  if (navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", () => {
      navigator.clipboard.writeText(text()).then(() => {
        copy.textContent = "Copied";
        setTimeout(() => { copy.textContent = "Copy"; }, 1500);
      });
    });
  }
})();
