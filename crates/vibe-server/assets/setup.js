// The minimal setup form's script (a file, not inline: the CSP allows no inline script).
const token = new URLSearchParams(location.search).get("token") || "";
const msg = document.getElementById("msg");
document.getElementById("f").addEventListener("submit", async (e) => {
  e.preventDefault();
  msg.className = ""; msg.textContent = "Creating…";
  const res = await fetch("/api/v1/setup", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token, email: email.value, password: password.value}),
  });
  if (res.ok) { msg.className = "ok"; msg.textContent = "Done — you are signed in."; setTimeout(() => location.href = "/", 800); return; }
  const body = await res.json().catch(() => ({}));
  msg.className = "err"; msg.textContent = (body.error && body.error.message) || ("Failed: HTTP " + res.status);
});
