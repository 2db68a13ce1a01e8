#!/usr/bin/env python3
"""Writes tests/vectors/published.json from research/providers-new.json.

Vectors whose origin is the provider's docs or its own SDK's test suite are
exported for the providers the registry has, and community-library vectors
(origin `community-sdk`) too: those check the scheme's reading but never make
a provider verified. Where a provider's
sources publish no failing example, one tampered vector is derived from its
first valid one (the body's last byte changed) and marked `derived`.
"""
import base64
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REGISTRY = {  # research name -> registry name
    "box": "box", "razorpay": "razorpay", "coinbase-commerce": "coinbase-commerce",
    "adyen": "adyen-banking", "mux": "mux", "pagerduty": "pagerduty",
    "modern-treasury": "modern-treasury", "buildkite": "buildkite",
    "gocardless": "gocardless", "sanity": "sanity", "pusher": "pusher",
    "lithic": "lithic", "orb": "orb", "finch": "finch", "airtable": "airtable",
    "onfido": "onfido", "replicate": "replicate", "recurly": "recurly",
    "castle": "castle", "convoy": "convoy",
}


ADYEN_ENVELOPE = (b'{"live": "false", "notificationItems": [{"NotificationRequestItem": ', b'}]}')


def body_bytes(vector):
    if vector.get("body_base64") is not None:
        return base64.b64decode(vector["body_base64"])
    return vector["body"].encode("utf-8")


def main():
    research = json.load(open(os.path.join(HERE, "providers-new.json")))
    out = []
    adyen_standard = []
    for provider in research:
        name = REGISTRY.get(provider["name"])
        if name is None:
            continue
        mine = []
        for v in provider["vectors"]:
            if v.get("origin") not in ("official-sdk", "provider-docs", "community-sdk"):
                continue
            # Adyen's standard notifications sign fields inside the body: the
            # registry's `adyen`, not the header scheme of `adyen-banking`.
            # The published items are wrapped, byte for byte, in the
            # envelope Adyen posts them in (the signature covers only the
            # item's fields).
            body = body_bytes(v)
            target, listed = name, mine
            if name == "adyen-banking" and not v["headers"]:
                target, listed = "adyen", adyen_standard
                body = ADYEN_ENVELOPE[0] + body + ADYEN_ENVELOPE[1]
            listed.append({
                "id": "%s-%d" % (target, len(listed) + 1),
                "provider": target,
                "expected_valid": v["expected"] == "valid",
                "secret": v["secret"],
                "headers": v["headers"],
                "body_hex": body.hex(),
                "origin": v["origin"],
                "source_repo": v["source_repo"],
                "source_path": v["source_path"],
                "source_commit": v["source_commit_or_url"],
                "note": v.get("note", ""),
            })
        if not any(not v["expected_valid"] for v in mine):
            valid = next(v for v in mine if v["expected_valid"])
            body = bytearray.fromhex(valid["body_hex"])
            body[-1] ^= 0x01
            derived = dict(valid)
            derived.update({
                "id": "%s-tampered" % name,
                "expected_valid": False,
                "body_hex": body.hex(),
                "origin": "derived",
                "note": "derived from %s: the body's last byte changed, the published "
                        "signature kept" % valid["id"],
            })
            mine.append(derived)
        out.extend(mine)
    if adyen_standard:
        # No published failing item: one derived by changing a signed field
        # (the unsigned rest of the body would change nothing).
        valid = adyen_standard[0]
        body = bytes.fromhex(valid["body_hex"])
        tampered = body.replace(b'"pspReference": "', b'"pspReference": "9', 1)
        assert tampered != body
        derived = dict(valid)
        derived.update({
            "id": "adyen-tampered",
            "expected_valid": False,
            "body_hex": tampered.hex(),
            "origin": "derived",
            "note": "derived from %s: a digit put before the signed pspReference, "
                    "the published signature kept" % valid["id"],
        })
        adyen_standard.append(derived)
        out.extend(adyen_standard)
    path = os.path.join(HERE, "..", "tests", "vectors", "published.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %d vectors" % len(out))


if __name__ == "__main__":
    main()
