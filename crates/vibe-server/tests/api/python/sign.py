"""Third-party signatures for the webhook tests (tests/api/webhooks.rs).

Reads {"twilio": {"url", "auth_token", "params"}} or
{"whatsapp": {"app_secret", "body"}} as JSON on stdin and prints the header
value: Twilio's with the official `twilio` library's RequestValidator,
WhatsApp's with Python's own hmac/hashlib.
"""
import hashlib
import hmac
import json
import sys

req = json.load(sys.stdin)
if "twilio" in req:
    from twilio.request_validator import RequestValidator

    t = req["twilio"]
    validator = RequestValidator(t["auth_token"])
    signature = validator.compute_signature(t["url"], t["params"])
    # The library's own check of what it computed, as Twilio's server side would.
    assert validator.validate(t["url"], t["params"], signature)
    print(signature)
else:
    w = req["whatsapp"]
    digest = hmac.new(w["app_secret"].encode(), w["body"].encode(), hashlib.sha256).hexdigest()
    print("sha256=" + digest)
