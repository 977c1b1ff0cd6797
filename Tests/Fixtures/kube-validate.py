"""The work of kube-validate (beside this file, which says what is checked and how): run it through that script,
which installs kubernetes-validate, jsonschema and PyYAML into a virtual environment and runs this with it.

    python kube-validate.py FILE...    (- for standard input)
"""

import importlib.resources
import json
import os
import re
import sys

import jsonschema
import kubernetes_validate.utils
import referencing
import yaml

GATEWAY_API_CRDS = os.environ.get("SLIPWAY_GATEWAY_API_CRDS", "/work/shared/testdata/gateway-api-v1.3.0")
# (API group, kind) -> the CRD file in GATEWAY_API_CRDS that has its schema.
CRDS = {("gateway.networking.k8s.io", "HTTPRoute"): "gateway.networking.k8s.io_httproutes.yaml"}
# What a CRD's schema says of metadata is only `type: object` (the API server checks it as ObjectMeta itself).
LOOSE_METADATA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML, except that a timestamp stays a string, as it does for Kubernetes (and for JSON schemas)."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))  # a plain "="


def die(message):
    print(f"kube-validate: {message}", file=sys.stderr)
    sys.exit(2)


def kubernetes_schemas():
    """The folder of kubernetes-validate's strict schemas for the chosen Kubernetes version, and that version."""
    bundled = list(dict.fromkeys(re.sub(r"\.0$", "", v) for v in kubernetes_validate.utils.all_versions()))
    version = os.environ.get("KUBE_VALIDATE_VERSION") or bundled[-1]
    version = re.sub(r"^v?(\d+\.\d+).*$", r"\1", version)
    folder = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}.0-local-strict"
    if not folder.is_dir():
        die(f"no schemas for Kubernetes {version} (KUBE_VALIDATE_VERSION); bundled: {', '.join(bundled)}")
    return folder, version


def strict(schema):
    """A structural schema (a CRD's) that refuses unknown fields, as the API server's pruning drops them."""
    schema = dict(schema)
    if "properties" in schema:
        schema["properties"] = {name: strict(s) for name, s in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = strict(schema[key])
    return schema


class Validators:
    def __init__(self):
        self.folder, self.version = kubernetes_schemas()
        self.registry = None
        self.cache = {}

    def get(self, api_version, kind):
        """A validator for documents of this apiVersion and kind, or None when there is no schema for them."""
        if (api_version, kind) not in self.cache:
            group, _, version = api_version.rpartition("/")
            if (group, kind) in CRDS:
                self.cache[api_version, kind] = self.crd(CRDS[group, kind], version)
            else:
                self.cache[api_version, kind] = self.builtin(api_version, kind)
        return self.cache[api_version, kind]

    def builtin(self, api_version, kind):
        # kubernetes-validate's file names: deployment-apps-v1.json for apps/v1, role-rbac-v1.json for
        # rbac.authorization.k8s.io/v1, namespace-v1.json for v1. Each schema's apiVersion enum rejects a look-alike.
        group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        if not re.fullmatch(r"[A-Za-z0-9]+", kind) or not re.fullmatch(r"[a-z0-9-]+", group_version):
            return None
        path = self.folder / f"{kind.lower()}-{group_version}.json"
        if not path.is_file():
            return None
        if self.registry is None:
            definitions = json.loads((self.folder / "_definitions.json").read_text())
            self.registry = referencing.Registry().with_resource(
                definitions["$id"], referencing.Resource.from_contents(definitions))
        return jsonschema.Draft202012Validator(json.loads(path.read_text()), registry=self.registry)

    def crd(self, filename, version):
        path = os.path.join(GATEWAY_API_CRDS, filename)
        try:
            with open(path) as f:
                crd = yaml.load(f, Loader=Loader)
        except OSError as e:
            die(f"cannot read the CRD {path}: {e.strerror} (SLIPWAY_GATEWAY_API_CRDS)")
        versions = [v for v in crd["spec"]["versions"] if v["name"] == version]
        if not versions:
            return None
        schema = strict(versions[0]["schema"]["openAPIV3Schema"])
        schema["properties"] = dict(schema["properties"], metadata=LOOSE_METADATA)
        # OpenAPI 3.0's schema objects are closest to draft 4 (whose integer is not 1.0).
        return jsonschema.Draft4Validator(schema)


def field_path(parts):
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", part):
            path += ("." if path else "") + part
        else:
            path += f"[{json.dumps(part)}]"  # metadata.labels["app.kubernetes.io/name"]
    return path or "(document)"


def errors(validator, document):
    """PATH: MESSAGE for every error, in the validator's order, each once."""
    found = {}
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        schema = error.schema if isinstance(error.schema, dict) else {}
        if error.validator == "additionalProperties" and error.validator_value is False \
                and "patternProperties" not in schema:
            for name in error.instance:
                if name not in schema.get("properties", {}):
                    found[f"{field_path(path + [name])}: unknown field"] = None
        elif error.validator == "required":
            for name in error.validator_value:
                if name not in error.instance:
                    found[f"{field_path(path + [name])}: required field is missing"] = None
        else:
            message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
            found[f"{field_path(path)}: {message}"] = None
    return list(found)


def check(validators, document):
    """The document's Kind/name and its errors."""
    if not isinstance(document, dict):
        return "?/?", ["(document): not a mapping (a Kubernetes object)"]
    kind, api_version = document.get("kind"), document.get("apiVersion")
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    label = f"{kind if isinstance(kind, str) else '?'}/{metadata.get('name', '?')}"
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return label, ["apiVersion, kind: both are required, as strings"]
    validator = validators.get(api_version, kind)
    if validator is None:
        return label, [f"no schema for kind {kind} ({api_version}) in Kubernetes {validators.version} "
                       f"or the Gateway API CRDs"]
    return label, errors(validator, document)


def main(arguments):
    if not arguments or any(a.startswith("-") and a != "-" for a in arguments):
        die("usage: kube-validate FILE...   (- for standard input)")
    sources = []
    for name in arguments:
        try:
            if name == "-":
                sources.append(("<stdin>", sys.stdin.read()))
            else:
                with open(name) as f:
                    sources.append((name, f.read()))
        except OSError as e:
            die(f"cannot read {name}: {e.strerror}")

    validators = Validators()
    valid = True
    for name, text in sources:
        number = 0
        try:
            for document in yaml.load_all(text, Loader=Loader):
                number += 1
                if document is None:
                    continue
                label, problems = check(validators, document)
                if not problems:
                    print(f"ok  {name}#{number} {label}")
                for problem in problems:
                    print(f"FAIL {name}#{number} {label}: {problem}")
                    valid = False
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            print(f"FAIL {name}#{number + 1}: not YAML: {getattr(e, 'problem', None) or e}{where}")
            valid = False
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
