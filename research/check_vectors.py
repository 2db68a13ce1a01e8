#!/usr/bin/env python3
"""Recompute every vector in providers-new.json from its recorded inputs.

Each provider's scheme carries a machine-readable `recipe` (a vector may
override it with its own `recipe`). A recipe says which bytes are signed,
with which key and hash, how the result is encoded and where the recorded
signature sits. For a vector marked "valid" the recomputed signature must be
among the recorded ones; for one marked "invalid" it must not be (an invalid
vector whose signature still reproduces would be a transcription mistake).

This catches transcription mistakes (a lost space, a changed escape, a
truncated signature) in the recorded secrets, bodies and signatures. It is
not a verifier: timestamps and tolerances are not checked here.

Standard library only. Exit status 1 if any vector fails or cannot be checked.

Recipe fields:
  mac       "hmac-sha256" | "hmac-sha1" | "hmac-sha512" | "sha256" (plain
            digest of the message, the key being one of the message tokens)
  key       how the secret becomes key bytes: "utf8" | "hex" | "base64" |
            "whsec" (base64 after an optional "whsec_" prefix) |
            "sha1-utf8" (SHA-1 digest of the UTF-8 secret) | "sha256-utf8"
  message   list of tokens concatenated in order:
              "body"            the exact body bytes
              "url"             the vector's url
              "secret"          the secret's UTF-8 bytes
              "lit:TEXT"        the literal TEXT
              "header:NAME"     a request header's value (name case-insensitive)
              "sigfield:NAME"   a field of the parsed signature header (e.g. t)
              "header-first:NAME" the first comma-separated entry of a header
                                (Recurly's timestamp)
              "body-sha256-hex" hex SHA-256 of the body
              "form-sorted"     url-encoded form body: name+value pairs sorted
              "adyen-item"      Adyen NotificationRequestItem signing string
              "vonage-params"   url-encoded form body without `sig`, sorted by
                                name, each as "&name=value" ('&' and '=' in
                                values replaced by '_')
  encoding  "hex" | "base64" | "base64url"
  signature where the recorded signature is:
              {"header": NAME} with optional "prefix", or
              {"header": NAME, "kv": {"item_sep": ",", "eq": "=", "key": "v1"}}
              {"header": NAME, "split": " ", "prefix": "v1,"} (space-separated list)
              {"json": "a.b.c"} (a field of the JSON body)
              {"form": NAME} (a field of the url-encoded form body)
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


def header(vec, name):
    for k, v in vec.get("headers", {}).items():
        if k.lower() == name.lower():
            return v
    raise KeyError("header %s missing" % name)


def body_bytes(vec):
    if vec.get("body_base64") is not None:
        return base64.b64decode(vec["body_base64"])
    return vec["body"].encode("utf-8")


def key_bytes(recipe, secret):
    form = recipe.get("key", "utf8")
    if form == "utf8":
        return secret.encode("utf-8")
    if form == "hex":
        return bytes.fromhex(secret)
    if form == "base64":
        return base64.b64decode(secret)
    if form == "whsec":
        s = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
        return base64.b64decode(s)
    if form == "sha1-utf8":
        return hashlib.sha1(secret.encode("utf-8")).digest()
    if form == "sha256-utf8":
        return hashlib.sha256(secret.encode("utf-8")).digest()
    raise ValueError("unknown key form %s" % form)


def parse_kv(value, spec):
    """All values of key spec["key"] in an 'a=1,b=2' style header."""
    out = []
    for item in value.split(spec.get("item_sep", ",")):
        item = item.strip()
        if spec.get("eq", "=") not in item:
            continue
        k, v = item.split(spec.get("eq", "="), 1)
        if k.strip() == spec["key"]:
            out.append(v.strip())
    return out


def recorded_signatures(vec, recipe):
    sig = recipe["signature"]
    if "form" in sig:
        pairs = urllib.parse.parse_qsl(body_bytes(vec).decode("utf-8"), keep_blank_values=True)
        return [v for k, v in pairs if k == sig["form"]]
    if "json" in sig:
        node = json.loads(body_bytes(vec))
        for part in sig["json"].split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return [node]
    value = header(vec, sig["header"])
    if "kv" in sig:
        return parse_kv(value, sig["kv"])
    items = value.split(sig["split"]) if "split" in sig else [value]
    prefix = sig.get("prefix", "")
    return [i[len(prefix):] for i in items if i.startswith(prefix)]


def sig_field(vec, recipe, name):
    sig = recipe["signature"]
    vals = parse_kv(header(vec, sig["header"]), dict(sig["kv"], key=name))
    if not vals:
        raise KeyError("signature field %s missing" % name)
    return vals[0]


def adyen_item(vec):
    item = json.loads(body_bytes(vec))
    if "notificationItems" in item:
        item = item["notificationItems"][0]["NotificationRequestItem"]
    fields = [
        item.get("pspReference", ""),
        item.get("originalReference", ""),
        item.get("merchantAccountCode", ""),
        item.get("merchantReference", ""),
        str(item["amount"]["value"]),
        item["amount"]["currency"],
        item.get("eventCode", ""),
        item.get("success", ""),
    ]
    return ":".join(fields).encode("utf-8")


def message(vec, recipe):
    out = b""
    for tok in recipe["message"]:
        if tok == "body":
            out += body_bytes(vec)
        elif tok == "url":
            out += vec["url"].encode("utf-8")
        elif tok == "secret":
            out += vec["secret"].encode("utf-8")
        elif tok.startswith("lit:"):
            out += tok[4:].encode("utf-8")
        elif tok.startswith("header:"):
            out += header(vec, tok[7:]).encode("utf-8")
        elif tok.startswith("header-first:"):
            out += header(vec, tok[13:]).split(",")[0].strip().encode("utf-8")
        elif tok.startswith("sigfield:"):
            out += sig_field(vec, recipe, tok[9:]).encode("utf-8")
        elif tok == "body-sha256-hex":
            out += hashlib.sha256(body_bytes(vec)).hexdigest().encode()
        elif tok == "form-sorted":
            pairs = urllib.parse.parse_qsl(body_bytes(vec).decode("utf-8"), keep_blank_values=True)
            out += "".join(k + v for k, v in sorted(pairs)).encode("utf-8")
        elif tok == "vonage-params":
            pairs = urllib.parse.parse_qsl(body_bytes(vec).decode("utf-8"), keep_blank_values=True)
            for k, v in sorted(p for p in pairs if p[0] != "sig"):
                out += ("&%s=%s" % (k, v.replace("&", "_").replace("=", "_"))).encode("utf-8")
        elif tok == "adyen-item":
            out += adyen_item(vec)
        else:
            raise ValueError("unknown message token %s" % tok)
    return out


def compute(vec, recipe):
    msg = message(vec, recipe)
    mac = recipe["mac"]
    if mac.startswith("hmac-"):
        digest = hmac.new(key_bytes(recipe, vec["secret"]), msg, getattr(hashlib, mac[5:])).digest()
    elif mac in ("sha256", "sha1"):
        digest = getattr(hashlib, mac)(msg).digest()
    else:
        raise ValueError("unsupported mac %s" % mac)
    enc = recipe["encoding"]
    if enc == "hex":
        return digest.hex()
    if enc == "base64":
        return base64.b64encode(digest).decode()
    if enc == "base64url":
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
    raise ValueError("unknown encoding %s" % enc)


def same(a, b, encoding):
    if encoding == "hex":
        return hmac.compare_digest(a.lower(), b.lower())
    return hmac.compare_digest(a, b)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "providers-new.json")
    providers = json.load(open(path, encoding="utf-8"))
    counts = {"valid-pass": 0, "invalid-pass": 0, "fail": 0, "unchecked": 0}
    for p in providers:
        for i, vec in enumerate(p.get("vectors", [])):
            label = "%s[%d]" % (p["name"], i)
            recipe = vec.get("recipe") or p["scheme"].get("recipe")
            if not recipe:
                counts["unchecked"] += 1
                print("UNCHECKED %s: no recipe (%s)" % (label, p["scheme"].get("algorithm")))
                continue
            try:
                got = compute(vec, recipe)
                recorded = recorded_signatures(vec, recipe)
            except Exception as exc:  # a malformed record is a failure, not a crash
                counts["fail"] += 1
                print("FAIL %s: %s: %s" % (label, type(exc).__name__, exc))
                continue
            hit = any(same(got, r, recipe["encoding"]) for r in recorded)
            if vec["expected"] == "valid" and hit:
                counts["valid-pass"] += 1
            elif vec["expected"] == "invalid" and not hit:
                counts["invalid-pass"] += 1
            else:
                counts["fail"] += 1
                print("FAIL %s: expected %s, computed %s, recorded %s" % (label, vec["expected"], got, recorded))
    total = sum(counts.values())
    print(
        "%d vectors: %d valid reproduced, %d invalid rejected, %d failed, %d unchecked"
        % (total, counts["valid-pass"], counts["invalid-pass"], counts["fail"], counts["unchecked"])
    )
    return 1 if counts["fail"] or counts["unchecked"] else 0


if __name__ == "__main__":
    sys.exit(main())
