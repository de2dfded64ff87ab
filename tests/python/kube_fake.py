"""A faithful fake of the Kubernetes API server, for testing the gateway's scaler.

No real API server can run on a test machine, so the Kubernetes parts of the gateway (leader
election with a coordination.k8s.io/v1 Lease, StatefulSet ``scale`` subresource, memory raise by
patching the pod template) are tested against this fake. It serves the few endpoints the scaler
uses, over plain HTTP/1.1 with keep-alive (the kube-rs client is hyper), and follows the
documented, observable behaviour of kube-apiserver for them:

* every request needs ``Authorization: Bearer <token>`` (else 401);
* errors are ``metav1.Status`` bodies with the real reasons, codes, messages and details;
* one global, increasing ``resourceVersion``; optimistic concurrency on PUT *and* PATCH (a body
  or patch carrying a stale ``metadata.resourceVersion`` gets 409 Conflict); a no-op write does
  not bump the resourceVersion; ``dryRun=All`` never persists;
* JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch, the latter a port
  of k8s.io/apimachinery's ``strategicpatch`` for the merge keys a StatefulSet pod template has
  (including its ordering rules: see ``_smp_list``); server-side apply is refused (415);
* the request body is decoded as the typed Go object would be: wrong JSON types are rejected,
  unknown fields are dropped with a ``Warning`` header, quantities are canonicalised
  (``1.5Gi`` -> ``1536Mi``, ``1024Mi`` -> ``1Gi``), MicroTimes must have exactly 6 fractional
  digits, defaults are filled in (imagePullPolicy, terminationMessagePath, ...);
* StatefulSet updates are validated as the apps strategy does: ``spec.replicas >= 0``, only
  replicas/template/updateStrategy/... may change, the selector must match the template labels,
  ``requests <= limits``, container and env names; ``generation`` follows ``spec`` and
  ``status.updateRevision`` follows ``spec.template``.

There is no controller: after every write the StatefulSet status "converges" at once
(``status.replicas == spec.replicas``; with ``auto_ready`` also ready/current/updated replicas and
``currentRevision``). Tests drive the fake from Python: state helpers (``add_statefulset``,
``set_lease``, ...), failure injection (``fail``), the request log (``requests``) and
``write_kubeconfig`` for a process under test (kube-rs ``Config::infer()`` reads ``KUBECONFIG``).

Run it by hand: ``python kube_fake.py --statefulset default/tavana-executor --kubeconfig kc``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import secrets
import socket
import ssl
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["FakeKubeApi", "canonical_quantity", "parse_quantity"]

APPS = "apps"
COORD = "coordination.k8s.io"
MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH)
BODY_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")


def _now() -> str:
    """metav1.Time: RFC 3339, whole seconds, UTC with ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# Errors: metav1.Status bodies


class ApiError(Exception):
    """An error the fake answers with: HTTP code plus a metav1.Status body."""

    def __init__(self, code: int, reason: str, message: str, details: Optional[dict] = None,
                 headers: Iterable[tuple[str, str]] = (), note: str = ""):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details = {k: v for k, v in (details or {}).items() if v not in ("", None, [])}
        self.headers = list(headers)
        self.note = note  # extra detail for the request log only (not sent)

    def status(self) -> dict:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _qualified(group: str, name: str) -> str:
    """GroupResource / GroupKind .String(): ``statefulsets.apps``, ``Lease.coordination.k8s.io``."""
    return f"{name}.{group}" if group else name


def not_found(group: str, resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(group, resource)} "{name}" not found',
                    {"name": name, "group": group, "kind": resource})


def already_exists(group: str, resource: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{_qualified(group, resource)} "{name}" already exists',
                    {"name": name, "group": group, "kind": resource})


def conflict(group: str, resource: str, name: str, why: str = MODIFIED) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {_qualified(group, resource)} "{name}": {why}',
                    {"name": name, "group": group, "kind": resource})


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unsupported_media(accepted: Iterable[str]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    f"include: {', '.join(accepted)}")


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource")


def unknown_error(message: str) -> ApiError:
    """A plain Go error reaching the handler: 500, no reason (StatusReasonUnknown is "")."""
    return ApiError(500, "", message)


class _Raw(str):
    """A value already formatted the way Go prints it in a field error."""


def _gorepr(value: Any) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # close to Go's %q
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class FieldError:
    """One k8s.io/apimachinery/pkg/util/validation/field.Error."""

    def __init__(self, reason: str, field: str, body: str):
        self.reason, self.field, self.body = reason, field, body

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


def f_invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError("FieldValueInvalid", field, f"Invalid value: {_gorepr(value)}: {detail}")


def f_required(field: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def f_forbidden(field: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", field, f"Forbidden: {detail}")


def f_duplicate(field: str, value: Any) -> FieldError:
    return FieldError("FieldValueDuplicate", field, f"Duplicate value: {_gorepr(value)}")


def invalid(group: str, kind: str, name: str, errs: list[FieldError]) -> ApiError:
    """errors.NewInvalid: 422 with one cause per field error."""
    agg = str(errs[0]) if len(errs) == 1 else "[" + ", ".join(str(e) for e in errs) + "]"
    return ApiError(422, "Invalid", f'{_qualified(group, kind)} "{name}" is invalid: {agg}',
                    {"name": name, "group": group, "kind": kind,
                     "causes": [{"reason": e.reason, "message": e.body, "field": e.field}
                                for e in errs]})


# ---------------------------------------------------------------------------------------------
# resource.Quantity

_QTY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL.items()}


def parse_quantity(text: Any) -> tuple[Fraction, str]:
    """Parse a Kubernetes quantity into (exact value, format); raise ValueError as Go does."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(_QTY_FORMAT)
    s = text.strip() if isinstance(text, str) else repr(text)
    m = re.fullmatch(r"([+-]?)([0-9]+\.?[0-9]*|\.[0-9]+)(.*)", s)
    if not m:
        raise ValueError(_QTY_FORMAT)
    sign, number, suffix = m.groups()
    try:
        value = Fraction(Decimal(number))
    except InvalidOperation:
        raise ValueError(_QTY_FORMAT) from None
    if suffix in _BINARY:
        value, fmt = value * 1024 ** _BINARY[suffix], "BinarySI"
    elif suffix in _DECIMAL:
        value, fmt = value * Fraction(10) ** _DECIMAL[suffix], "DecimalSI"
    elif re.fullmatch(r"[eE][+-]?[0-9]+", suffix):
        value, fmt = value * Fraction(10) ** int(suffix[1:]), "DecimalExponent"
    else:
        raise ValueError("unable to parse quantity's suffix")
    nanos = value * 10**9  # precision is limited to nano units: finer values round up
    if nanos.denominator != 1:
        value = Fraction(-(-nanos.numerator // nanos.denominator), 10**9)
    return (-value if sign == "-" else value), fmt


def _format_quantity(value: Fraction, fmt: str) -> str:
    """resource.Quantity.String(): the canonical form (CanonicalizeBytes)."""
    if value == 0:
        return "0"
    sign, a = ("-" if value < 0 else ""), abs(value)
    if fmt == "BinarySI" and (a < 1024 or a.denominator != 1):
        fmt = "DecimalSI"  # small or fractional binary values are shown as decimal
    if fmt == "BinarySI":
        n, exp = a.numerator, 0
        while n % 1024 == 0 and exp < 6:
            n, exp = n // 1024, exp + 1
        return f"{sign}{n}{['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][exp]}"
    exp = 0
    while a.denominator != 1:
        a, exp = a * 10, exp - 1
    n = a.numerator
    while n % 10 == 0:
        n, exp = n // 10, exp + 1
    r = exp % 3  # lower the exponent to a multiple of 3
    n, exp = n * 10**r, exp - r
    if fmt == "DecimalSI" and exp in _DECIMAL_SUFFIX:
        return f"{sign}{n}{_DECIMAL_SUFFIX[exp]}"
    return f"{sign}{n}" + (f"e{exp}" if exp else "")


def canonical_quantity(text: Any) -> str:
    """The string the API server stores for a quantity: ``canonical_quantity("1.5Gi") == "1536Mi"``."""
    return _format_quantity(*parse_quantity(text))


# ---------------------------------------------------------------------------------------------
# Typed decoding: what json.Unmarshal into the Go struct (and back) does to a body


class _Obj:
    """A Go struct: known fields; unknown fields are dropped with a warning when ``closed``."""

    def __init__(self, go: str, fields: dict, closed: bool = True):
        self.go, self.fields, self.closed = go, fields, closed


class _List:
    def __init__(self, item):
        self.item = item


class _Map:
    def __init__(self, value):
        self.value = value


class _DecodeError(Exception):
    pass


_SCALAR_GO = {"string": "string", "int32": "int32", "int64": "int64", "bool": "bool",
              "time": "v1.Time", "microtime": "v1.MicroTime", "quantity": "resource.Quantity",
              "any": "interface {}"}


def _gotype(schema) -> str:
    if isinstance(schema, _Obj):
        return f"v1.{schema.go}"
    if isinstance(schema, _List):
        return "[]" + _gotype(schema.item)
    if isinstance(schema, _Map):
        return "map[string]" + _gotype(schema.value)
    return _SCALAR_GO[schema]


def _strip(value: Any) -> Any:
    """Drop nulls and ``$`` directives, as re-encoding a typed object does."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not None and not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _type_error(value: Any, schema, struct: Optional[str], jpath: str) -> _DecodeError:
    if isinstance(value, bool):
        jt = "bool"
    elif isinstance(value, (int, float)):
        jt = f"number {json.dumps(value)}" if schema in ("int32", "int64") else "number"
    else:
        jt = {str: "string", dict: "object", list: "array"}.get(type(value), "value")
    where = f"Go struct field {struct}.{jpath}" if struct else "Go value"
    return _DecodeError(f"json: cannot unmarshal {jt} into {where} of type {_gotype(schema)}")


_MICRO_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)")
_MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"


def _microtime(text: str) -> str:
    """metav1.MicroTime: Go parses RFC3339Micro (exactly 6 digits) and re-emits it in UTC."""
    if not _MICRO_RE.fullmatch(text):
        raise _DecodeError(f'parsing time {json.dumps(text)} as "{_MICRO_LAYOUT}": '
                           f'cannot parse {json.dumps(text[19:])} as ".000000Z07:00"')
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _DecodeError(f'parsing time {json.dumps(text)}: {exc}') from None
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _decode(value: Any, schema, fpath: str, jpath: str, struct: Optional[str],
            warnings: list[str]) -> Any:
    """Check ``value`` against ``schema`` and return it as the typed object re-encodes it."""
    if schema == "any":
        return _strip(value)
    if isinstance(schema, _Obj):
        if not isinstance(value, dict):
            raise _type_error(value, schema, struct, jpath)
        out = {}
        for key, item in value.items():
            child = f"{fpath}.{key}" if fpath else key
            sub = schema.fields.get(key)
            if sub is None:
                if key.startswith("$"):
                    continue  # a leftover patch directive
                if schema.closed:
                    warnings.append(f'unknown field "{child}"')
                elif item is not None and not key.startswith("$"):
                    out[key] = _strip(item)
                continue
            if item is not None:
                out[key] = _decode(item, sub, child, f"{jpath}.{key}" if jpath else key,
                                   schema.go, warnings)
        return out
    if isinstance(schema, _List):
        if not isinstance(value, list):
            raise _type_error(value, schema, struct, jpath)
        return [{} if item is None and isinstance(schema.item, _Obj) else
                _decode(item, schema.item, f"{fpath}[{i}]", jpath, struct, warnings)
                for i, item in enumerate(value)]
    if isinstance(schema, _Map):
        if not isinstance(value, dict):
            raise _type_error(value, schema, struct, jpath)
        return {k: _decode(v, schema.value, f"{fpath}[{k}]", jpath, struct, warnings)
                for k, v in value.items() if v is not None}
    if schema in ("string", "time"):
        if not isinstance(value, str):
            raise _type_error(value, schema, struct, jpath)
        return value
    if schema == "bool":
        if not isinstance(value, bool):
            raise _type_error(value, schema, struct, jpath)
        return value
    if schema in ("int32", "int64"):
        bits = 31 if schema == "int32" else 63
        if isinstance(value, bool) or not isinstance(value, int) or not -(2**bits) <= value < 2**bits:
            raise _type_error(value, schema, struct, jpath)
        return value
    if schema == "quantity":
        try:
            return canonical_quantity(value)
        except ValueError as exc:
            raise _DecodeError(str(exc)) from None
    if schema == "microtime":
        if not isinstance(value, str):
            raise _DecodeError(f"json: cannot unmarshal {type(value).__name__} into Go value of type string")
        return _microtime(value)
    raise AssertionError(schema)


STR, I32, I64 = "string", "int32", "int64"
_META = _Obj("ObjectMeta", {
    "name": STR, "generateName": STR, "namespace": STR, "selfLink": STR, "uid": STR,
    "resourceVersion": STR, "generation": I64, "creationTimestamp": "time",
    "deletionTimestamp": "time", "deletionGracePeriodSeconds": I64, "labels": _Map(STR),
    "annotations": _Map(STR), "ownerReferences": "any", "finalizers": _List(STR),
    "managedFields": "any"})
_RESOURCES = _Obj("ResourceRequirements", {
    "limits": _Map("quantity"), "requests": _Map("quantity"), "claims": "any"})
_CONTAINER = _Obj("Container", {
    "name": STR, "image": STR, "command": _List(STR), "args": _List(STR), "workingDir": STR,
    "ports": _List(_Obj("ContainerPort", {"name": STR, "hostPort": I32, "containerPort": I32,
                                          "protocol": STR, "hostIP": STR})),
    "envFrom": "any",
    "env": _List(_Obj("EnvVar", {"name": STR, "value": STR, "valueFrom": "any"})),
    "resources": _RESOURCES, "resizePolicy": "any", "restartPolicy": STR,
    "restartPolicyRules": "any", "volumeMounts": "any", "volumeDevices": "any",
    "livenessProbe": "any", "readinessProbe": "any", "startupProbe": "any", "lifecycle": "any",
    "terminationMessagePath": STR, "terminationMessagePolicy": STR, "imagePullPolicy": STR,
    "securityContext": "any", "stdin": "bool", "stdinOnce": "bool", "tty": "bool"})
# PodSpec has ~40 fields: only the ones the fake looks into are typed, the rest pass through.
_POD_SPEC = _Obj("PodSpec", {"containers": _List(_CONTAINER), "initContainers": _List(_CONTAINER),
                             "terminationGracePeriodSeconds": I64}, closed=False)
_STS_SPEC = _Obj("StatefulSetSpec", {
    "replicas": I32,
    "selector": _Obj("LabelSelector", {"matchLabels": _Map(STR), "matchExpressions": "any"}),
    "template": _Obj("PodTemplateSpec", {"metadata": _META, "spec": _POD_SPEC}),
    "volumeClaimTemplates": "any", "serviceName": STR, "podManagementPolicy": STR,
    "updateStrategy": "any", "revisionHistoryLimit": I32, "minReadySeconds": I32,
    "persistentVolumeClaimRetentionPolicy": "any", "ordinals": "any"})
STATEFULSET_SCHEMA = _Obj("StatefulSet", {"kind": STR, "apiVersion": STR, "metadata": _META,
                                          "spec": _STS_SPEC, "status": "any"})
SCALE_SCHEMA = _Obj("Scale", {"kind": STR, "apiVersion": STR, "metadata": _META,
                              "spec": _Obj("ScaleSpec", {"replicas": I32}), "status": "any"})
LEASE_SCHEMA = _Obj("Lease", {"kind": STR, "apiVersion": STR, "metadata": _META,
                              "spec": _Obj("LeaseSpec", {
                                  "holderIdentity": STR, "leaseDurationSeconds": I32,
                                  "acquireTime": "microtime", "renewTime": "microtime",
                                  "leaseTransitions": I32, "strategy": STR,
                                  "preferredHolder": STR})})


def _patch_decode_error(patched: Any, err: _DecodeError) -> ApiError:
    """A patched object that does not decode: 422 with an empty GroupKind, as patch.go does."""
    shown = json.dumps(patched, separators=(",", ":"))
    return invalid("", "", "", [f_invalid("patch", shown, str(err))])


def _body_decode_error(kind: str, err: Any) -> ApiError:
    return bad_request(f'{kind} in version "v1" cannot be handled as a {kind}: {err}')


# ---------------------------------------------------------------------------------------------
# Patches


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (returns a new value; inputs untouched)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = json_merge_patch(out.get(key), value)
    return out


class _JsonPatchError(Exception):
    pass


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise _JsonPatchError(f"invalid JSON pointer: {path!r}")
    return [] if path == "" else [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _index(container: list, token: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not re.fullmatch(r"0|[1-9][0-9]*", token):
        raise _JsonPatchError(f"invalid array index {token!r}")
    idx = int(token)
    if idx > len(container) or (idx == len(container) and not allow_end):
        raise _JsonPatchError(f"array index {idx} out of bounds")
    return idx


def _walk(doc: Any, tokens: list[str], path: str) -> Any:
    for token in tokens:
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list):
            doc = doc[_index(doc, token, allow_end=False)]
        else:
            raise _JsonPatchError(f"doc is missing path: {path!r}")
    return doc


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    return a == b and (isinstance(a, (int, float)) == isinstance(b, (int, float)))


def json_patch(doc: Any, ops: list) -> Any:
    """RFC 6902 JSON patch: add, remove, replace, move, copy, test."""
    doc = copy.deepcopy(doc)

    def add(tokens: list[str], value: Any, path: str) -> None:
        nonlocal doc
        if not tokens:
            doc = value
            return
        parent = _walk(doc, tokens[:-1], path)
        if isinstance(parent, dict):
            parent[tokens[-1]] = value
        elif isinstance(parent, list):
            parent.insert(_index(parent, tokens[-1], allow_end=True), value)
        else:
            raise _JsonPatchError(f"add operation does not apply: doc is missing path: {path!r}")

    def remove(tokens: list[str], path: str) -> Any:
        nonlocal doc
        if not tokens:
            old, doc = doc, None
            return old
        parent = _walk(doc, tokens[:-1], path)
        if isinstance(parent, dict) and tokens[-1] in parent:
            return parent.pop(tokens[-1])
        if isinstance(parent, list):
            return parent.pop(_index(parent, tokens[-1], allow_end=False))
        raise _JsonPatchError(f"remove operation does not apply: doc is missing path: {path!r}")

    for op in ops:
        kind, path = op.get("op"), op.get("path")
        tokens = _pointer(path)
        if kind == "add":
            add(tokens, copy.deepcopy(op.get("value")), path)
        elif kind == "remove":
            remove(tokens, path)
        elif kind == "replace":
            remove(tokens, path)  # replace requires the target to exist
            add(tokens, copy.deepcopy(op.get("value")), path)
        elif kind == "move":
            src = _pointer(op.get("from"))
            if tokens[: len(src)] == src and len(tokens) > len(src):
                raise _JsonPatchError("move operation does not apply: from is a prefix of path")
            add(tokens, remove(src, op.get("from")), path)
        elif kind == "copy":
            add(tokens, copy.deepcopy(_walk(doc, _pointer(op.get("from")), op.get("from"))), path)
        elif kind == "test":
            if not _json_equal(_walk(doc, tokens, path), op.get("value")):
                raise _JsonPatchError(f"testing value {path} failed: test failed")
        else:
            raise _JsonPatchError(f"Unexpected kind: {kind}")
    return doc


def _gomap(value: Any) -> str:
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_gomap(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_gomap(v) for v in value) + "]"
    return str(value)


# Merge keys (patchStrategy "merge") of the fields the fake knows. Paths use "*" for list items.
_POD = ("spec", "template", "spec")
STATEFULSET_MERGE_KEYS: dict[tuple, str] = {
    ("metadata", "ownerReferences"): "uid",
    _POD + ("containers",): "name",
    _POD + ("initContainers",): "name",
    _POD + ("volumes",): "name",
    _POD + ("imagePullSecrets",): "name",
}
for _c in ("containers", "initContainers"):
    STATEFULSET_MERGE_KEYS[_POD + (_c, "*", "env")] = "name"
    STATEFULSET_MERGE_KEYS[_POD + (_c, "*", "ports")] = "containerPort"
    STATEFULSET_MERGE_KEYS[_POD + (_c, "*", "volumeMounts")] = "mountPath"
del _c
_UNSUPPORTED_DIRECTIVES = ("$retainKeys", "$setElementOrder/", "$deleteFromPrimitiveList/")


def _smp_map(original: dict, patch: dict, path: tuple, keys: dict) -> dict:
    """strategicpatch.mergeMap: maps merge recursively, null deletes, lists by their strategy."""
    if "$patch" in patch:
        directive = patch["$patch"]
        if directive == "replace":
            return {k: v for k, v in patch.items() if k != "$patch"}
        if directive == "delete":
            return {}
        raise unknown_error(f"unknown patch type: {directive} in map: {_gomap(patch)}")
    for key in patch:
        if key.startswith(_UNSUPPORTED_DIRECTIVES):
            raise bad_request(f"kube_fake does not implement the strategic merge directive {key!r}")
    for key, value in patch.items():
        if value is None:
            original.pop(key, None)
        elif key not in original:
            original[key] = value  # taken as is (as apimachinery does)
        elif isinstance(original[key], dict) and isinstance(value, dict):
            original[key] = _smp_map(original[key], value, path + (key,), keys)
        elif isinstance(original[key], list) and isinstance(value, list) and path + (key,) in keys:
            original[key] = _smp_list(original[key], value, keys[path + (key,)],
                                      path + (key, "*"), keys)
        else:
            original[key] = value  # scalars, type changes and non-merging lists are replaced
    return original


def _smp_list(original: list, patch: list, key: str, path: tuple, keys: dict) -> list:
    """strategicpatch.mergeSlice for a list of maps with merge key ``key``.

    Elements are matched by ``key`` and merged; ``{"$patch": "delete", key: v}`` removes the
    matching elements, ``{"$patch": "replace"}`` replaces the whole list. The order follows
    apimachinery's normalizeElementOrder: elements named in the patch keep the patch's order,
    the others keep theirs and are interleaved by their position in the live list, and an
    element that is new goes *before* the server-only elements that follow it (so a patch that
    names only a new element puts it first).
    """
    if not original and not patch:
        return original
    for item in original + patch:
        if not isinstance(item, dict):
            raise unknown_error(f"list element types are not identical: {_gomap(original + patch)}")
    plain, replace = [], False
    for item in patch:
        if "$patch" not in item:
            plain.append(item)
        elif item["$patch"] == "delete":
            if key not in item:
                raise unknown_error(f"map: {_gomap(item)} does not contain declared merge key: {key}")
            original = [o for o in original if not (key in o and o[key] == item[key])]
        elif item["$patch"] == "replace":
            replace = True
        elif item["$patch"] == "merge":
            raise unknown_error("merging lists cannot yet be specified in the patch")
        else:
            raise unknown_error(f"unknown patch type: {item['$patch']} in map: {_gomap(item)}")
    if replace:
        original, plain = plain, []
    merged = list(original)
    for item in plain:
        if key not in item:
            raise unknown_error(f"map: {_gomap(item)} does not contain declared merge key: {key}")
        for i, existing in enumerate(merged):
            if key in existing and existing[key] == item[key]:
                merged[i] = _smp_map(existing, item, path, keys)
                break
        else:
            merged.append(item)

    for item in merged:
        if key not in item:
            raise unknown_error(f"map: {_gomap(item)} does not contain declared merge key: {key}")

    def index(items: list, item: dict) -> int:
        return next((i for i, x in enumerate(items) if x.get(key) == item.get(key)), -1)

    patch_items = sorted((m for m in merged if index(plain, m) >= 0), key=lambda m: index(plain, m))
    server_only = sorted((m for m in merged if index(plain, m) < 0), key=lambda m: index(original, m))
    out, i, j = [], 0, 0  # mergeSortedSlice(server_only, patch_items, original)
    while i < len(server_only) or j < len(patch_items):
        if j >= len(patch_items):
            out.append(server_only[i]); i += 1
        elif i >= len(server_only):
            out.append(patch_items[j]); j += 1
        else:
            li, ri = index(original, server_only[i]), index(original, patch_items[j])
            if li >= 0 and ri >= 0 and li < ri:
                out.append(server_only[i]); i += 1
            else:
                out.append(patch_items[j]); j += 1
    return out


def apply_patch(content_type: str, document: dict, raw: bytes, merge_keys: dict) -> Any:
    """Apply a PATCH body of the given type to a copy of ``document``."""
    if content_type not in PATCH_TYPES:
        raise unsupported_media(PATCH_TYPES)
    try:
        patch = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"error decoding patch: {exc}") from None
    document = copy.deepcopy(document)
    if content_type == MERGE_PATCH:
        return json_merge_patch(document, patch)
    if content_type == STRATEGIC_PATCH:
        if not isinstance(patch, dict):
            raise bad_request("invalid JSON document")
        return _smp_map(document, copy.deepcopy(patch), (), merge_keys)
    if not isinstance(patch, list) or not all(isinstance(op, dict) for op in patch):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    try:
        return json_patch(document, patch)
    except _JsonPatchError as exc:
        raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request",
                       note=str(exc)) from None


# ---------------------------------------------------------------------------------------------
# StatefulSet defaulting and validation (apps/v1 defaults, apps strategy)

_STS_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy",
                "persistentVolumeClaimRetentionPolicy", "minReadySeconds")
_STS_FORBIDDEN = ("updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                  "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                  "'minReadySeconds' are forbidden")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
                  "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
                  "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_ENV_NAME_MSG = "a valid environment variable name must consist only of printable ASCII characters other than '='"


def _default_container(c: dict) -> None:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if "imagePullPolicy" not in c:
        # parsers.ParseImageName: no tag and no digest means ":latest"; a digest means no tag.
        image = c.get("image", "")
        last = image.split("@", 1)[0].rsplit("/", 1)[-1]
        tag = last.rsplit(":", 1)[1] if ":" in last else ("" if "@" in image else "latest")
        c["imagePullPolicy"] = "Always" if tag == "latest" else "IfNotPresent"
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")


def _default_statefulset(sts: dict) -> None:
    """The apps/v1 and core/v1 defaulters for the fields a StatefulSet carries."""
    spec = sts.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    retention.setdefault("whenDeleted", "Retain")
    retention.setdefault("whenScaled", "Retain")
    pod = spec.setdefault("template", {}).setdefault("spec", {})
    pod.setdefault("restartPolicy", "Always")
    pod.setdefault("terminationGracePeriodSeconds", 30)
    pod.setdefault("dnsPolicy", "ClusterFirst")
    pod.setdefault("securityContext", {})
    pod.setdefault("schedulerName", "default-scheduler")
    for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
        _default_container(c)


def _validate_containers(pod: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    if not pod.get("containers"):
        errs.append(f_required("spec.template.spec.containers"))
    names: set[str] = set()
    for kind in ("initContainers", "containers"):
        for i, c in enumerate(pod.get(kind) or []):
            p = f"spec.template.spec.{kind}[{i}]"
            name = c.get("name", "")
            if not name:
                errs.append(f_required(f"{p}.name"))
            elif name in names:
                errs.append(f_duplicate(f"{p}.name", name))
            elif len(name) > 63 or not _DNS_LABEL.fullmatch(name):
                errs.append(f_invalid(f"{p}.name", name, _DNS_LABEL_MSG))
            names.add(name)
            if not c.get("image"):
                errs.append(f_required(f"{p}.image"))
            for j, env in enumerate(c.get("env") or []):
                env_name = env.get("name", "")
                if not env_name:
                    errs.append(f_required(f"{p}.env[{j}].name"))
                elif "=" in env_name or not all(32 <= ord(ch) <= 126 for ch in env_name):
                    errs.append(f_invalid(f"{p}.env[{j}].name", env_name, _ENV_NAME_MSG))
            for j, port in enumerate(c.get("ports") or []):
                cp = port.get("containerPort", 0)
                if not 1 <= cp <= 65535:
                    errs.append(f_invalid(f"{p}.ports[{j}].containerPort", cp,
                                          "must be between 1 and 65535, inclusive"))
            resources = c.get("resources") or {}
            for section in ("limits", "requests"):
                for res, qty in (resources.get(section) or {}).items():
                    if parse_quantity(qty)[0] < 0:
                        errs.append(f_invalid(f"{p}.resources.{section}[{res}]", qty,
                                              "must be greater than or equal to 0"))
            limits = resources.get("limits") or {}
            for res, qty in (resources.get("requests") or {}).items():
                if res in limits and parse_quantity(qty)[0] > parse_quantity(limits[res])[0]:
                    errs.append(f_invalid(f"{p}.resources.requests", qty,
                                          f"must be less than or equal to {res} limit of {limits[res]}"))
    return errs


def _validate_statefulset(sts: dict, old: Optional[dict]) -> list[FieldError]:
    spec = sts["spec"]
    errs: list[FieldError] = []
    if spec["replicas"] < 0:
        errs.append(f_invalid("spec.replicas", spec["replicas"], "must be greater than or equal to 0"))
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not selector:
        errs.append(f_invalid("spec.selector", _Raw("v1.LabelSelector{}"), "empty selector is invalid for statefulset"))
    elif any(labels.get(k) != v for k, v in selector.items()):
        shown = "map[string]string{" + ", ".join(f'"{k}":"{labels[k]}"' for k in sorted(labels)) + "}"
        errs.append(f_invalid("spec.template.metadata.labels", _Raw(shown),
                              "`selector` does not match template `labels`"))
    errs += _validate_containers(spec.get("template", {}).get("spec", {}))
    if old is not None:
        frozen_new = {k: v for k, v in spec.items() if k not in _STS_MUTABLE}
        frozen_old = {k: v for k, v in old["spec"].items() if k not in _STS_MUTABLE}
        if frozen_new != frozen_old:
            errs.append(f_forbidden("spec", _STS_FORBIDDEN))
    return errs


def _validate_lease(lease: dict) -> list[FieldError]:
    spec = lease.get("spec") or {}
    errs: list[FieldError] = []
    if spec.get("leaseDurationSeconds") is not None and spec["leaseDurationSeconds"] <= 0:
        errs.append(f_invalid("spec.leaseDurationSeconds", spec["leaseDurationSeconds"], "must be greater than 0"))
    if spec.get("leaseTransitions") is not None and spec["leaseTransitions"] < 0:
        errs.append(f_invalid("spec.leaseTransitions", spec["leaseTransitions"], "must be greater than or equal to 0"))
    return errs


def _selector_string(sts: dict) -> str:
    labels = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _revision(sts: dict) -> str:
    """A ControllerRevision name: ``<name>-<hash of the pod template>``."""
    digest = hashlib.sha256(json.dumps(sts["spec"]["template"], sort_keys=True).encode()).hexdigest()
    return f"{sts['metadata']['name']}-{digest[:10]}"


# ---------------------------------------------------------------------------------------------
# HTTP plumbing

_ROUTES = [
    (re.compile(r"/version/?"), "version", {"GET"}),
    (re.compile(r"/apis/apps/v1/namespaces/([^/]+)/statefulsets/([^/]+)/scale"), "scale", {"GET", "PATCH", "PUT"}),
    (re.compile(r"/apis/apps/v1/namespaces/([^/]+)/statefulsets/([^/]+)"), "sts", {"GET", "PATCH", "PUT"}),
    (re.compile(r"/apis/apps/v1/namespaces/([^/]+)/statefulsets"), "statefulsets", set()),
    (re.compile(r"/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases"), "leases", {"POST"}),
    (re.compile(r"/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases/([^/]+)"), "lease", {"GET", "PUT", "PATCH", "DELETE"}),
]
_RESOURCE_PATH = re.compile(
    r"/(?:api/(?P<cv>[^/]+)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))(?:/namespaces/(?P<ns>[^/]+))?"
    r"/(?P<resource>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?/?")


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; everything is delegated to the FakeKubeApi."""

    protocol_version = "HTTP/1.1"
    server_version = "kube-fake/1.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.api._track(self.connection, add=True)  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.api._track(self.connection, add=False)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass

    def _dispatch(self) -> None:
        self.server.api._handle(self)  # type: ignore[attr-defined]

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client dropping its connection is normal; anything else is printed."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """Read the whole request body (Content-Length or chunked), so keep-alive stays in sync."""
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            line = handler.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ValueError(f"bad chunk size line {line!r}") from None
            if size == 0:
                while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline(3)  # CRLF after the chunk
    length = handler.headers.get("Content-Length")
    if not length:
        return b""
    if not length.strip().isdigit():
        raise ValueError(f"bad Content-Length {length!r}")
    return handler.rfile.read(int(length))


def _media_type(value: Optional[str]) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


# ---------------------------------------------------------------------------------------------
# The fake


class FakeKubeApi:
    """A fake kube-apiserver on 127.0.0.1 (ephemeral port), started on construction.

    ``auto_ready``: after each write, readyReplicas/currentReplicas/updatedReplicas/
    availableReplicas and currentRevision converge at once (set False to keep them as they are,
    e.g. to drive them with ``set_statefulset_status``).
    """

    def __init__(self, token: str = "t0ken", *, user: str = "system:serviceaccount:default:tavana",
                 auto_ready: bool = True, tls: Optional[tuple[Path, Path, Path]] = None):
        self.token = token
        self.user = user
        self.auto_ready = auto_ready
        self._lock = threading.RLock()
        self._rv = 1000
        self._statefulsets: dict[tuple[str, str], dict] = {}
        self._leases: dict[tuple[str, str], dict] = {}
        self._failures: list[dict] = []
        self._stalls: list[dict] = []
        self._requests: list[dict] = []
        self._connections: set[socket.socket] = set()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self  # type: ignore[attr-defined]
        self.port: int = self._server.server_address[1]
        # tls = (ca, cert, key): serve HTTPS with cert, as a real API server does; clients verify
        # it with ca (written into the kubeconfig as certificate-authority-data).
        self._ca: Optional[bytes] = None
        if tls is not None:
            ca, cert, key = tls
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert), str(key))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._ca = Path(ca).read_bytes()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._stopped = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                         name="kube-fake", daemon=True)
        self._thread.start()

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> "FakeKubeApi":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FakeKubeApi({self.url})"

    def stop(self) -> None:
        """Stop serving and close every open (keep-alive) connection. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # -- state helpers -------------------------------------------------------------------------

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def add_statefulset(self, namespace: str, name: str, replicas: int = 1, container: str = "executor",
                        memory: str = "1Gi", env: Optional[dict[str, str]] = None) -> dict:
        """Create a realistic (defaulted, converged) apps/v1 StatefulSet; returns a copy."""
        labels = {"app.kubernetes.io/name": name}
        env = {"MAX_MEMORY_GB": "0.75"} if env is None else env
        memory = canonical_quantity(memory)
        sts = {
            "kind": "StatefulSet",
            "apiVersion": "apps/v1",
            "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()),
                         "resourceVersion": "", "generation": 1, "creationTimestamp": _now(),
                         "labels": dict(labels)},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": dict(labels)},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {"containers": [{
                        "name": container,
                        "image": "tavana:test",
                        "env": [{"name": k, "value": v} for k, v in env.items()],
                        "resources": {"requests": {"cpu": "1", "memory": memory},
                                      "limits": {"memory": memory}},
                    }]},
                },
                "serviceName": name,
                "podManagementPolicy": "Parallel",
            },
            "status": {},
        }
        _default_statefulset(sts)
        with self._lock:
            if (namespace, name) in self._statefulsets:
                raise ValueError(f"statefulset {namespace}/{name} already exists")
            self._sync_status(sts, force_ready=True)
            sts["metadata"]["resourceVersion"] = self._next_rv()
            self._statefulsets[(namespace, name)] = sts
            return copy.deepcopy(sts)

    def statefulset(self, namespace: str, name: str) -> Optional[dict]:
        """A deep copy of the stored StatefulSet, or None."""
        with self._lock:
            return copy.deepcopy(self._statefulsets.get((namespace, name)))

    def set_statefulset_status(self, namespace: str, name: str, **fields: Any) -> dict:
        """Play the controller: merge ``fields`` into ``status`` (bumps resourceVersion)."""
        with self._lock:
            sts = self._statefulsets[(namespace, name)]
            sts["status"].update(fields)
            sts["metadata"]["resourceVersion"] = self._next_rv()
            return copy.deepcopy(sts)

    def lease(self, namespace: str, name: str) -> Optional[dict]:
        """A deep copy of the stored Lease, or None."""
        with self._lock:
            return copy.deepcopy(self._leases.get((namespace, name)))

    def set_lease(self, namespace: str, name: str, spec: dict) -> dict:
        """Create or overwrite a Lease with ``spec`` (no validation); returns a copy."""
        with self._lock:
            old = self._leases.get((namespace, name))
            meta = copy.deepcopy(old["metadata"]) if old else {
                "name": name, "namespace": namespace, "uid": str(uuid.uuid4()),
                "creationTimestamp": _now()}
            meta["resourceVersion"] = self._next_rv()
            lease = {"kind": "Lease", "apiVersion": f"{COORD}/v1", "metadata": meta,
                     "spec": copy.deepcopy(spec)}
            self._leases[(namespace, name)] = lease
            return copy.deepcopy(lease)

    def delete_lease(self, namespace: str, name: str) -> bool:
        """Remove a Lease directly; True if it existed."""
        with self._lock:
            return self._leases.pop((namespace, name), None) is not None

    # -- test hooks ----------------------------------------------------------------------------

    def fail(self, method: Optional[str], path_regex: str, code: int, reason: Optional[str] = None,
             times: Optional[int] = None, message: Optional[str] = None) -> None:
        """Answer the next ``times`` (None: all) requests whose method is ``method`` (None or
        "*": any) and whose path matches ``path_regex`` (re.search) with a realistic Status
        error of HTTP ``code``. ``reason`` defaults to the one Kubernetes uses for the code
        (403 -> Forbidden with an RBAC message); ``message`` overrides the message."""
        with self._lock:
            self._failures.append({"method": (method or "*").upper(), "re": re.compile(path_regex),
                                   "code": code, "reason": reason, "message": message,
                                   "left": times})

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()
            self._stalls.clear()

    def stall(self, method: Optional[str], path_regex: str, seconds: float) -> None:
        """Hold every request whose method is ``method`` (None or "*": any) and whose path
        matches ``path_regex`` for ``seconds`` before answering it (an overloaded or
        unreachable API server), until ``clear_failures``."""
        with self._lock:
            self._stalls.append({"method": (method or "*").upper(), "re": re.compile(path_regex),
                                 "seconds": seconds})

    def _stall(self, method: str, path: str) -> None:
        with self._lock:
            delay = max((rule["seconds"] for rule in self._stalls
                         if rule["method"] in ("*", method) and rule["re"].search(path)),
                        default=0.0)
        if delay:
            time.sleep(delay)

    @property
    def requests(self) -> list[dict]:
        """Copies of the recorded requests, oldest first. Keys: method, path, query (dict),
        content_type, body (parsed JSON or None), raw_body, headers (lower-case names),
        status (the code returned), response (the JSON returned), warnings, note."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def requests_matching(self, method: Optional[str] = None,
                          path_contains: Optional[str] = None) -> list[dict]:
        return [r for r in self.requests
                if (method is None or r["method"] == method.upper())
                and (path_contains is None or path_contains in r["path"])]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def write_kubeconfig(self, path: Any, namespace: str = "default", with_ca: bool = True) -> Path:
        """Write a kubeconfig (JSON, which is YAML) pointing at this fake; returns the path.
        Over TLS it carries the CA unless ``with_ca`` is False (a client that cannot verify)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kube-fake", "cluster": {
                "server": self.url,
                **({"certificate-authority-data": base64.b64encode(self._ca).decode()}
                   if self._ca and with_ca else {}),
            }}],
            "users": [{"name": "kube-fake", "user": {"token": self.token}}],
            "contexts": [{"name": "kube-fake", "context": {"cluster": "kube-fake", "user": "kube-fake",
                                                           "namespace": namespace}}],
            "current-context": "kube-fake",
            "preferences": {},
        }
        path = Path(path)
        path.write_text(json.dumps(config, indent=2))
        return path

    # -- request handling ----------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        path = split.path
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        record: dict[str, Any] = {
            "method": h.command, "path": path, "query": query,
            "content_type": _media_type(h.headers.get("Content-Type")), "body": None,
            "raw_body": "", "headers": {k.lower(): v for k, v in h.headers.items()},
            "status": None, "response": None, "warnings": [], "note": ""}
        extra_headers: list[tuple[str, str]] = []
        try:
            raw = _read_body(h)
        except (ValueError, OSError) as exc:
            h.close_connection = True
            raw, error = b"", bad_request(f"unreadable request body: {exc}")
        else:
            error = None
        record["raw_body"] = raw.decode("utf-8", "replace")
        try:
            record["body"] = json.loads(raw) if raw else None
        except ValueError:
            pass
        warnings: list[str] = record["warnings"]
        try:
            if error:
                raise error
            self._stall(h.command, path)
            with self._lock:
                code, response = self._process(h.command, path, query, record["content_type"],
                                               raw, h.headers, warnings)
        except ApiError as exc:
            code, response, record["note"] = exc.code, exc.status(), exc.note
            extra_headers = exc.headers
        except Exception as exc:  # a bug in the fake: say so loudly
            traceback.print_exc(file=sys.stderr)
            code, response = 500, unknown_error(f"kube_fake internal error: {exc!r}").status()
        record["status"], record["response"] = code, response
        with self._lock:
            self._requests.append(record)
        data = json.dumps(response).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Cache-Control", "no-cache, private")
        h.send_header("Audit-Id", str(uuid.uuid4()))
        for warning in warnings:
            h.send_header("Warning", f'299 - {json.dumps(warning)}')
        for name, value in extra_headers:
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()

    def _process(self, method: str, path: str, query: dict, ctype: str, raw: bytes,
                 headers: Any, warnings: list[str]) -> tuple[int, dict]:
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        self._inject(method, path)
        for pattern, route, methods in _ROUTES:
            m = pattern.fullmatch(path)
            if not m:
                continue
            if method not in methods:
                raise method_not_allowed()
            args = [unquote(g) for g in m.groups()]
            dry_run = self._dry_run(query, method)
            if route == "version":
                return 200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0-kube-fake",
                             "gitCommit": "0" * 40, "gitTreeState": "clean",
                             "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.0",
                             "compiler": "gc", "platform": "linux/amd64"}
            handler = getattr(self, f"_{route}_{method.lower()}")
            return handler(*args, query=query, ctype=ctype, raw=raw, dry_run=dry_run,
                           warnings=warnings)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    @staticmethod
    def _dry_run(query: dict, method: str) -> bool:
        value = query.get("dryRun", "")
        if value and value != "All":
            options = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions",
                       "DELETE": "DeleteOptions"}.get(method, "GetOptions")
            raise invalid("meta.k8s.io", options, "", [FieldError(
                "FieldValueNotSupported", "dryRun",
                f'Unsupported value: []string{{"{value}"}}: supported values: "All"')])
        return value == "All"

    def _inject(self, method: str, path: str) -> None:
        for rule in list(self._failures):
            if rule["method"] not in ("*", method) or not rule["re"].search(path):
                continue
            if rule["left"] is not None:
                if rule["left"] <= 0:
                    continue
                rule["left"] -= 1
                if rule["left"] == 0:
                    self._failures.remove(rule)
            raise self._injected_error(rule, method, path)

    def _injected_error(self, rule: dict, method: str, path: str) -> ApiError:
        code = rule["code"]
        m = _RESOURCE_PATH.fullmatch(path)
        group = (m.group("group") or "") if m else ""
        resource = m.group("resource") if m else ""
        name = unquote(m.group("name") or "") if m else ""
        ns = unquote(m.group("ns") or "") if m else ""
        sub = m.group("sub") if m else None
        verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update",
                "PATCH": "patch", "DELETE": "delete" if name else "deletecollection"}.get(method, method.lower())
        qres = _qualified(group, resource)
        details = {"name": name, "group": group, "kind": resource}
        headers: list[tuple[str, str]] = []
        if code == 403:
            reason, what = "Forbidden", f'{resource}/{sub}' if sub else resource
            if m:
                scope = f' in the namespace "{ns}"' if ns else " at the cluster scope"
                who = f'User "{self.user}" cannot {verb} resource "{what}" in API group "{group}"{scope}'
                message = f'{qres} "{name}" is forbidden: {who}' if name else f"{qres} is forbidden: {who}"
            else:
                message, details = f'forbidden: User "{self.user}" cannot {verb} path "{path}"', {}
        elif code == 401:
            reason, message, details = "Unauthorized", "Unauthorized", {}
        elif code == 404:
            reason, message = "NotFound", f'{qres} "{name}" not found'
        elif code == 409 and rule["reason"] == "AlreadyExists":
            reason, message = "AlreadyExists", f'{qres} "{name}" already exists'
        elif code == 409:
            reason, message = "Conflict", f'Operation cannot be fulfilled on {qres} "{name}": {MODIFIED}'
        elif code == 422:
            reason, message = "Invalid", f'{qres} "{name}" is invalid: injected failure'
        elif code == 429:
            reason, message = "TooManyRequests", "Too many requests, please try again later."
            details = {"retryAfterSeconds": 1}
            headers.append(("Retry-After", "1"))
        elif code == 500:
            reason, message = "InternalError", "Internal error occurred: injected failure"
            details = {"causes": [{"message": "injected failure"}]}
        elif code == 503:
            reason, message, details = "ServiceUnavailable", "the server is currently unable to handle the request", {}
        elif code == 504:
            reason, message = "Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded"
        else:
            reason, message, details = "", f"the server responded with the status code {code} but did not return more information", {}
        return ApiError(code, rule["reason"] or reason, rule["message"] or message, details, headers,
                        note="injected")

    # -- shared update checks ------------------------------------------------------------------

    @staticmethod
    def _parse_body(raw: bytes, kind: str) -> Any:
        try:
            return json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None

    @staticmethod
    def _check_body_type(ctype: str) -> None:
        if ctype and ctype not in BODY_TYPES:
            raise unsupported_media(BODY_TYPES)

    @staticmethod
    def _check_kind(body: Any, kind: str, api_version: str) -> None:
        if not isinstance(body, dict):
            raise _body_decode_error(kind, _type_error(body, _Obj(kind, {}), None, ""))
        if body.get("apiVersion") not in (None, "", api_version):
            raise bad_request(f"the API version in the data ({body['apiVersion']}) does not match "
                              f"the expected API version ({api_version})")
        if body.get("kind") not in (None, "", kind):
            raise bad_request(f'{body["kind"]} in version "{api_version.split("/")[-1]}" cannot be '
                              f'handled as a {kind}: no kind "{body["kind"]}" is registered for '
                              f'version "{api_version}" in scheme')

    @staticmethod
    def _check_name(meta: dict, namespace: str, name: str) -> None:
        if meta.get("name", "") != name:
            raise bad_request(f"the name of the object ({meta.get('name', '')}) does not match "
                              f"the name on the URL ({name})")
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request(f"the namespace of the object ({meta['namespace']}) does not match "
                              f"the namespace on the request ({namespace})")

    @staticmethod
    def _check_preconditions(meta: dict, old: dict, group: str, resource: str, name: str,
                             *, uid_is_precondition: bool, kind: str) -> None:
        """resourceVersion (409 when set and stale) and uid (409 on PUT, immutable on PATCH)."""
        uid = meta.get("uid")
        if uid and uid != old["metadata"]["uid"]:
            if uid_is_precondition:
                raise conflict(group, resource, name, f"Precondition failed: UID in precondition: "
                                                      f"{uid}, UID in object meta: {old['metadata']['uid']}")
            raise invalid(group, kind, name, [f_invalid("metadata.uid", uid, "field is immutable")])
        rv = meta.get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise conflict(group, resource, name)

    # -- StatefulSets --------------------------------------------------------------------------

    def _require_sts(self, ns: str, name: str) -> dict:
        sts = self._statefulsets.get((ns, name))
        if sts is None:
            raise not_found(APPS, "statefulsets", name)
        return sts

    def _sync_status(self, sts: dict, force_ready: bool = False) -> None:
        """The missing controller: status converges to spec at once."""
        status = sts.setdefault("status", {})
        replicas = sts["spec"]["replicas"]
        status["replicas"] = replicas
        status["observedGeneration"] = sts["metadata"]["generation"]
        status["updateRevision"] = _revision(sts)
        if self.auto_ready or force_ready:
            status.update(readyReplicas=replicas, currentReplicas=replicas, updatedReplicas=replicas,
                          availableReplicas=replicas, currentRevision=status["updateRevision"])
        status.setdefault("availableReplicas", 0)
        status.setdefault("collisionCount", 0)
        for key in ("readyReplicas", "currentReplicas", "updatedReplicas"):  # omitempty
            if status.get(key) == 0:
                del status[key]

    def _admit_sts(self, old: dict, candidate: Any, ns: str, name: str, *, from_patch: bool,
                   warnings: list[str]) -> dict:
        """Decode, check, default and validate an updated StatefulSet (not yet stored)."""
        try:
            new = _decode(candidate, STATEFULSET_SCHEMA, "", "", None, warnings)
        except _DecodeError as exc:
            raise (_patch_decode_error(candidate, exc) if from_patch
                   else _body_decode_error("StatefulSet", exc)) from None
        new["kind"], new["apiVersion"] = "StatefulSet", "apps/v1"
        meta = new.setdefault("metadata", {})
        self._check_name(meta, ns, name)
        self._check_preconditions(meta, old, APPS, "statefulsets", name,
                                  uid_is_precondition=not from_patch, kind="StatefulSet")
        for key in ("uid", "creationTimestamp", "generation", "resourceVersion"):
            meta[key] = old["metadata"][key]
        meta["namespace"] = ns
        new["status"] = copy.deepcopy(old["status"])  # status is ignored on the main resource
        new.setdefault("spec", {})
        _default_statefulset(new)
        errs = _validate_statefulset(new, old)
        if errs:
            raise invalid(APPS, "StatefulSet", name, errs)
        if new["spec"] != old["spec"]:
            meta["generation"] = old["metadata"]["generation"] + 1
        return new

    def _commit_sts(self, old: dict, new: dict, dry_run: bool) -> dict:
        self._sync_status(new)
        if new == old:
            return copy.deepcopy(old)  # a no-op write does not bump the resourceVersion
        if dry_run:
            return copy.deepcopy(new)
        new["metadata"]["resourceVersion"] = self._next_rv()
        self._statefulsets[(new["metadata"]["namespace"], new["metadata"]["name"])] = new
        return copy.deepcopy(new)

    def _sts_get(self, ns: str, name: str, **_: Any) -> tuple[int, dict]:
        return 200, copy.deepcopy(self._require_sts(ns, name))

    def _sts_patch(self, ns: str, name: str, *, ctype: str, raw: bytes, dry_run: bool,
                   warnings: list[str], **_: Any) -> tuple[int, dict]:
        old = self._require_sts(ns, name)
        patched = apply_patch(ctype, old, raw, STATEFULSET_MERGE_KEYS)
        new = self._admit_sts(old, patched, ns, name, from_patch=True, warnings=warnings)
        return 200, self._commit_sts(old, new, dry_run)

    def _sts_put(self, ns: str, name: str, *, ctype: str, raw: bytes, dry_run: bool,
                 warnings: list[str], **_: Any) -> tuple[int, dict]:
        self._check_body_type(ctype)
        body = self._parse_body(raw, "StatefulSet")
        self._check_kind(body, "StatefulSet", "apps/v1")
        old = self._require_sts(ns, name)
        new = self._admit_sts(old, body, ns, name, from_patch=False, warnings=warnings)
        return 200, self._commit_sts(old, new, dry_run)

    # -- scale subresource ---------------------------------------------------------------------

    @staticmethod
    def _scale_of(sts: dict) -> dict:
        meta = sts["metadata"]
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                  "creationTimestamp")},
                "spec": {"replicas": sts["spec"]["replicas"]},
                "status": {"replicas": sts["status"].get("replicas", 0),
                           "selector": _selector_string(sts)}}

    def _update_scale(self, old: dict, candidate: Any, ns: str, name: str, *, from_patch: bool,
                      dry_run: bool, warnings: list[str]) -> dict:
        try:
            scale = _decode(candidate, SCALE_SCHEMA, "", "", None, warnings)
        except _DecodeError as exc:
            raise (_patch_decode_error(candidate, exc) if from_patch
                   else _body_decode_error("Scale", exc)) from None
        meta = scale.get("metadata") or {}
        self._check_name(meta, ns, name)
        rv = meta.get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise conflict(APPS, "statefulsets", name)
        replicas = (scale.get("spec") or {}).get("replicas", 0)  # omitted means 0, as in Go
        if replicas < 0:
            raise invalid("autoscaling", "Scale", name,
                          [f_invalid("spec.replicas", replicas, "must be greater than or equal to 0")])
        new = copy.deepcopy(old)
        new["spec"]["replicas"] = replicas
        if replicas != old["spec"]["replicas"]:
            new["metadata"]["generation"] += 1
        return self._scale_of(self._commit_sts(old, new, dry_run))

    def _scale_get(self, ns: str, name: str, **_: Any) -> tuple[int, dict]:
        return 200, self._scale_of(self._require_sts(ns, name))

    def _scale_patch(self, ns: str, name: str, *, ctype: str, raw: bytes, dry_run: bool,
                     warnings: list[str], **_: Any) -> tuple[int, dict]:
        old = self._require_sts(ns, name)
        patched = apply_patch(ctype, self._scale_of(old), raw, {})
        return 200, self._update_scale(old, patched, ns, name, from_patch=True, dry_run=dry_run,
                                       warnings=warnings)

    def _scale_put(self, ns: str, name: str, *, ctype: str, raw: bytes, dry_run: bool,
                   warnings: list[str], **_: Any) -> tuple[int, dict]:
        self._check_body_type(ctype)
        body = self._parse_body(raw, "Scale")
        self._check_kind(body, "Scale", "autoscaling/v1")
        old = self._require_sts(ns, name)
        return 200, self._update_scale(old, body, ns, name, from_patch=False, dry_run=dry_run,
                                       warnings=warnings)

    # -- Leases --------------------------------------------------------------------------------

    def _require_lease(self, ns: str, name: str) -> dict:
        lease = self._leases.get((ns, name))
        if lease is None:
            raise not_found(COORD, "leases", name)
        return lease

    def _decode_lease_body(self, raw: bytes, ctype: str, warnings: list[str]) -> dict:
        self._check_body_type(ctype)
        body = self._parse_body(raw, "Lease")
        self._check_kind(body, "Lease", f"{COORD}/v1")
        try:
            return _decode(body, LEASE_SCHEMA, "", "", None, warnings)
        except _DecodeError as exc:
            raise _body_decode_error("Lease", exc) from None

    def _leases_post(self, ns: str, *, ctype: str, raw: bytes, dry_run: bool, warnings: list[str],
                     **_: Any) -> tuple[int, dict]:
        body = self._decode_lease_body(raw, ctype, warnings)
        meta = body.get("metadata") or {}
        if meta.get("namespace") and meta["namespace"] != ns:
            raise bad_request("the namespace of the provided object does not match the namespace "
                              "sent on the request")
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            name = meta["generateName"] + "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789")
                                                  for _ in range(5))
        errs = []
        if not name:
            errs.append(f_required("metadata.name", "name or generateName is required"))
        elif len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
            errs.append(f_invalid("metadata.name", name, _DNS_SUBDOMAIN_MSG))
        errs += _validate_lease(body)
        if errs:
            raise invalid(COORD, "Lease", name, errs)
        if meta.get("resourceVersion"):
            raise unknown_error("resourceVersion should not be set on objects to be created")
        if (ns, name) in self._leases:
            raise already_exists(COORD, "leases", name)
        meta = {k: v for k, v in meta.items() if k not in ("deletionTimestamp", "generation", "selfLink")}
        meta.update(name=name, namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=_now())
        lease = {"kind": "Lease", "apiVersion": f"{COORD}/v1", "metadata": meta,
                 "spec": body.get("spec") or {}}
        if not dry_run:
            meta["resourceVersion"] = self._next_rv()
            self._leases[(ns, name)] = lease
        return 201, copy.deepcopy(lease)

    def _lease_get(self, ns: str, name: str, **_: Any) -> tuple[int, dict]:
        return 200, copy.deepcopy(self._require_lease(ns, name))

    def _admit_lease(self, old: dict, new: dict, ns: str, name: str) -> dict:
        meta = new.setdefault("metadata", {})
        for key in ("uid", "creationTimestamp", "resourceVersion"):
            meta[key] = old["metadata"][key]
        meta["namespace"] = ns
        new["kind"], new["apiVersion"] = "Lease", f"{COORD}/v1"
        new.setdefault("spec", {})
        errs = _validate_lease(new)
        if errs:
            raise invalid(COORD, "Lease", name, errs)
        return new

    def _commit_lease(self, old: dict, new: dict, dry_run: bool) -> dict:
        if new == old or dry_run:
            return copy.deepcopy(new)
        new["metadata"]["resourceVersion"] = self._next_rv()
        self._leases[(new["metadata"]["namespace"], new["metadata"]["name"])] = new
        return copy.deepcopy(new)

    def _lease_put(self, ns: str, name: str, *, ctype: str, raw: bytes, dry_run: bool,
                   warnings: list[str], **_: Any) -> tuple[int, dict]:
        body = self._decode_lease_body(raw, ctype, warnings)
        meta = body.get("metadata") or {}
        self._check_name(meta, ns, name)
        old = self._require_lease(ns, name)
        uid = meta.get("uid")
        if uid and uid != old["metadata"]["uid"]:
            raise conflict(COORD, "leases", name, f"Precondition failed: UID in precondition: {uid}, "
                                                  f"UID in object meta: {old['metadata']['uid']}")
        if not meta.get("resourceVersion"):  # leases do not allow unconditional updates
            raise invalid(COORD, "Lease", name, [f_invalid("metadata.resourceVersion", _Raw("0x0"),
                                                           "must be specified for an update")])
        if meta["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise conflict(COORD, "leases", name)
        new = self._admit_lease(old, body, ns, name)
        return 200, self._commit_lease(old, new, dry_run)

    def _lease_patch(self, ns: str, name: str, *, ctype: str, raw: bytes, dry_run: bool,
                     warnings: list[str], **_: Any) -> tuple[int, dict]:
        old = self._require_lease(ns, name)
        patched = apply_patch(ctype, old, raw, {})
        try:
            new = _decode(patched, LEASE_SCHEMA, "", "", None, warnings)
        except _DecodeError as exc:
            raise _patch_decode_error(patched, exc) from None
        meta = new.setdefault("metadata", {})
        self._check_name(meta, ns, name)
        self._check_preconditions(meta, old, COORD, "leases", name, uid_is_precondition=False,
                                  kind="Lease")
        new = self._admit_lease(old, new, ns, name)
        return 200, self._commit_lease(old, new, dry_run)

    def _lease_delete(self, ns: str, name: str, *, raw: bytes, dry_run: bool, **_: Any) -> tuple[int, dict]:
        options = self._parse_body(raw, "DeleteOptions") or {}
        old = self._require_lease(ns, name)
        pre = (options.get("preconditions") or {}) if isinstance(options, dict) else {}
        if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
            raise conflict(COORD, "leases", name, f"Precondition failed: UID in precondition: "
                                                  f"{pre['uid']}, UID in object meta: {old['metadata']['uid']}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise conflict(COORD, "leases", name,
                           f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                           f"ResourceVersion in object meta: {old['metadata']['resourceVersion']}")
        body_dry_run = isinstance(options, dict) and "All" in (options.get("dryRun") or [])
        if not (dry_run or body_dry_run):
            del self._leases[(ns, name)]
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "details": {"name": name, "group": COORD, "kind": "leases",
                                 "uid": old["metadata"]["uid"]}}


def main(argv: Optional[list[str]] = None) -> None:
    """Serve a fake by hand: prints the URL, runs until interrupted."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--token", default="t0ken")
    parser.add_argument("--kubeconfig", help="write a kubeconfig here")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--statefulset", action="append", default=[], metavar="NS/NAME")
    args = parser.parse_args(argv)
    api = FakeKubeApi(token=args.token)
    for item in args.statefulset:
        ns, _, name = item.partition("/")
        api.add_statefulset(ns, name)
    if args.kubeconfig:
        api.write_kubeconfig(args.kubeconfig, args.namespace)
    print(api.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()


if __name__ == "__main__":
    main()
