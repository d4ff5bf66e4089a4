// Who is signed in: the operator the token belongs to, named in the header.
"use strict";

Object.assign(STRINGS.vi, {signed_in: "Đang đăng nhập:"});
Object.assign(STRINGS.en, {signed_in: "Signed in as"});

async function showOperator() {
  if (!token) { $("operator").hidden = true; return; }
  try {
    const me = await api("/whoami");
    $("operator-name").textContent = me.name;
    $("operator").hidden = false;
  } catch (_) {
    $("operator").hidden = true;
  }
}

// After main.js's own listener has taken the token typed in.
$("login").addEventListener("submit", () => { setTimeout(showOperator); });
showOperator();
