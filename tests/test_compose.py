"""docker-compose.yml, checked where no Docker engine runs: against the Compose specification,
and each container's environment against what its process reads. Our image's services are
checked against the settings classes (built here from the environment compose gives them, in
production mode), the router against the variables its config reads, and the Keycloak realm
against the clients and the issuer the rest of the file names.
"""

import importlib.resources
import json
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from ruamel.yaml import YAML

from events.settings import EventSettings
from resolvers.scopes import SCOPES, SERVICES_INTERNAL
from resolvers.settings import SubgraphSettings
from shopgraph.registry import SUBGRAPHS, settings_for, streams_events

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
REALM_FILE = ROOT / "deploy" / "keycloak" / "shopgraph-realm.json"
ROUTER = ROOT / "router"

# --- the file as compose reads it --------------------------------------------------------------

REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<operator>:?[-?+])(?P<argument>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)
REQUIRED = re.compile(r"\$\{(?P<name>[A-Za-z_]\w*):\?[^}]*\}")
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|_KEY)$")


def _interpolated(value: str, operator_environment: Mapping[str, str]) -> str:
    """``value`` with its ``${...}`` references replaced as compose replaces them."""

    def replace(reference: re.Match[str]) -> str:
        if reference["escaped"]:
            return "$"
        given = operator_environment.get(reference["name"] or reference["bare"])
        operator, argument = reference["operator"] or "", reference["argument"]
        unset = given is None or (given == "" and operator.startswith(":"))
        if operator.endswith("-"):
            return argument if unset else given or ""
        if operator.endswith("+"):
            return "" if unset else argument
        assert not (operator.endswith("?") and unset), f"compose would refuse to start: {argument}"
        return given or ""

    return REFERENCE.sub(replace, value)


def _resolved(node: Any, operator_environment: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return _interpolated(node, operator_environment)
    if isinstance(node, dict):
        return {key: _resolved(value, operator_environment) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolved(item, operator_environment) for item in node]
    return node


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    command: list[str]
    written: dict[str, str]
    """The environment as the file writes it, ``${...}`` and all."""
    environment: dict[str, str]
    """The environment the container gets."""
    definition: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Compose:
    document: dict[str, Any]
    """After interpolation, as compose validates and runs it."""
    services: dict[str, Service]


@pytest.fixture(scope="module")
def compose() -> Compose:
    """The file, interpolated with a made-up value for every variable it requires (as an
    operator's environment would give them) and the defaults for the others."""
    text = COMPOSE_FILE.read_text()
    operator_environment = {match["name"]: secrets.token_urlsafe(32) for match in REQUIRED.finditer(text)}
    written: dict[str, Any] = YAML(typ="safe", pure=True).load(text)
    document: dict[str, Any] = _resolved(written, operator_environment)
    services = {}
    for name, definition in document["services"].items():
        raw = written["services"][name].get("environment", {})
        command = definition.get("command", [])
        services[name] = Service(
            name,
            command.split() if isinstance(command, str) else command,
            _as_mapping(raw),
            _as_mapping(definition.get("environment", {})),
            definition,
        )
    return Compose(document, services)


def _as_mapping(environment: dict[str, Any] | list[str]) -> dict[str, str]:
    """An ``environment`` section (a mapping, or a list of NAME=value) as strings, as the
    container sees it."""
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {
        name: "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in environment.items()
    }


def test_the_file_follows_the_compose_specification(compose: Compose) -> None:
    schema_file = importlib.resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)

    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(compose.document)
    ]

    assert not errors, "\n".join(errors)


def test_every_secret_comes_from_the_operator(compose: Compose) -> None:
    """A secret in the file would be everyone's secret: each one is a variable compose refuses
    to start without (``${NAME:?why}``), never a literal and never a default."""
    problems = []
    for service in compose.services.values():
        for variable, value in service.written.items():
            if SECRET_NAME.search(variable) and not REQUIRED.fullmatch(value):
                problems.append(f"{service.name}: {variable} is {value!r}, not ${{NAME:?...}}")
            for reference in REFERENCE.finditer(value):
                name = reference["name"] or reference["bare"]
                if name and SECRET_NAME.search(name) and not REQUIRED.fullmatch(reference[0]):
                    problems.append(f"{service.name}: {variable} uses {reference[0]}, not ${{{name}:?...}}")

    assert not problems, "\n".join(problems)


# --- our image's services: serve, worker, and the one-off commands -----------------------------


def _ours(compose: Compose) -> Iterator[Service]:
    """The services that run our image (built from this directory)."""
    return (service for service in compose.services.values() if "build" in service.definition)


def _settings_read(service: Service) -> list[type[BaseSettings]]:
    """The settings classes the service's `shopgraph` command builds: ``serve NAME`` its
    subgraph's (and the events' when it streams them to subscribers), ``worker [NAME ...]``
    those subgraphs' and the events', the others (migrate, events) every one."""
    match service.command:
        case ["serve", name]:
            return [type(settings_for(name)), *([EventSettings] if streams_events(name) else [])]
        case ["worker", *arguments]:
            names = [argument for argument in arguments if not argument.startswith("-")] or SUBGRAPHS
            return [*(type(settings_for(name)) for name in names), EventSettings]
        case _:
            return [*(type(settings_for(name)) for name in SUBGRAPHS), EventSettings]


def _variable(settings_class: type[BaseSettings], field: str) -> str:
    return f"{settings_class.model_config.get('env_prefix', '')}{field}".upper()


def _runs(service: Service) -> bool:
    """Whether the service is a long-running production process (a subgraph or a worker)."""
    return service.command[:1] in (["serve"], ["worker"])


def test_our_services_set_only_settings_their_process_reads(compose: Compose) -> None:
    unknown = []
    for service in _ours(compose):
        known = {
            _variable(settings_class, field): settings_class
            for settings_class in _settings_read(service)
            for field in settings_class.model_fields
        }
        unknown += [
            f"{service.name} (`shopgraph {' '.join(service.command)}`): {variable} is not a field of "
            f"{' or '.join(sorted({cls.__name__ for cls in _settings_read(service)}))}"
            for variable in service.environment
            if variable not in known
        ]

    assert not unknown, "\n".join(unknown)


def _development_defaults(settings_class: type[BaseSettings]) -> list[str]:
    """The fields whose default is a development value (a ``DEVELOPMENT_*`` constant of the
    modules that declare the class), which production refuses."""
    modules = [
        sys.modules[cls.__module__]
        for cls in settings_class.__mro__
        if issubclass(cls, BaseSettings) and cls is not BaseSettings
    ]
    values = {value for module in modules for name, value in vars(module).items() if name.startswith("DEVELOPMENT_")}
    return [
        field
        for field, info in settings_class.model_fields.items()
        if isinstance(info.default, str) and info.default in values
    ]


def test_every_server_and_worker_sets_what_production_refuses_to_default(compose: Compose) -> None:
    missing = [
        f"{service.name}: {_variable(settings_class, field)} is not set (production refuses its development default)"
        for service in _ours(compose)
        if _runs(service)
        for settings_class in _settings_read(service)
        for field in _development_defaults(settings_class)
        if _variable(settings_class, field) not in service.environment
    ]

    assert not missing, "\n".join(missing)


def _built(settings_class: type[BaseSettings], environment: Mapping[str, str], env_file: Path) -> BaseSettings:
    """``settings_class`` as a process whose whole environment is ``environment`` builds it
    (through a dotenv file, the one source this copy of the class reads)."""
    env_file.write_text("".join(f"{name}='{value}'\n" for name, value in environment.items()))

    def only_the_file(
        cls: type[BaseSettings],
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (dotenv_settings,)

    isolated = type(
        settings_class.__name__, (settings_class,), {"settings_customise_sources": classmethod(only_the_file)}
    )
    built: BaseSettings = isolated(_env_file=env_file)
    return built


def test_every_server_and_worker_starts_in_production_with_what_compose_gives_it(
    compose: Compose, tmp_path: Path
) -> None:
    refused = []
    for service in _ours(compose):
        if not _runs(service):
            continue
        for settings_class in _settings_read(service):
            try:
                settings = _built(settings_class, service.environment, tmp_path / f"{service.name}.env")
            except ValidationError as exc:
                why = "; ".join(
                    f"{'.'.join(map(str, error['loc'])) or 'settings'}: {error['msg']}" for error in exc.errors()
                )
                refused.append(f"{service.name}: {settings_class.__name__} refuses it: {why}")
                continue
            if isinstance(settings, SubgraphSettings) and settings.environment != "production":
                refused.append(f"{service.name}: {_variable(settings_class, 'environment')} is not production")

    assert not refused, "\n".join(refused)


# --- the router --------------------------------------------------------------------------------


def _router(compose: Compose) -> Service:
    (router,) = (service for service in compose.services.values() if "gateway.config.ts" in " ".join(service.command))
    return router


IMPORT = re.compile(r"""(?:from|import)\s*\(?\s*['"](\.{1,2}/[^'"]+)['"]""")
BOUND_TO_ENV = re.compile(r"\b(\w+)\s*(?::\s*[\w.]+\s*)?=\s*process\.env\b")
FUNCTION = re.compile(
    r"^(?P<indent>[ \t]*)(?:export\s+)?function\s+(?P<name>\w+)\s*\(\s*(?P<parameter>\w+)", re.MULTILINE
)


@dataclass(frozen=True, slots=True)
class RouterSources:
    files: list[Path]
    text: str

    def variables(self) -> set[str]:
        """Every environment variable the router's code reads: ``process.env.NAME`` (also
        through a name bound to ``process.env``, such as a parameter defaulting to it), and the
        first argument of helpers that look their parameter up in it (``int('MAX_DEPTH', ...)``)."""
        objects = "|".join(["process\\.env", *(re.escape(name) for name in set(BOUND_TO_ENV.findall(self.text)))])
        read = set(re.findall(rf"\b(?:{objects})\s*(?:\.\s*|\[\s*['\"])([A-Z][A-Z0-9_]*)", self.text))
        for function in FUNCTION.finditer(self.text):
            end = self.text.find(f"\n{function['indent']}}}", function.end())
            body = self.text[function.end() : end]
            if re.search(rf"\b(?:{objects})\s*\[\s*{function['parameter']}\s*\]", body):
                read |= set(re.findall(rf"\b{function['name']}\(\s*['\"]([A-Z][A-Z0-9_]*)['\"]", self.text))
        return read

    def development_values(self) -> dict[str, str]:
        """Each variable that falls back to a ``DEVELOPMENT_*`` constant, with its value."""
        constants = dict(re.findall(r"\b(DEVELOPMENT_\w+)\s*=\s*['\"]([^'\"]*)['\"]", self.text))
        fallbacks = re.findall(r"\.\s*([A-Z][A-Z0-9_]*)\s*\?\?\s*(DEVELOPMENT_\w+)", self.text)
        return {variable: constants[constant] for variable, constant in fallbacks if constant in constants}


@pytest.fixture(scope="module")
def router_sources(compose: Compose) -> RouterSources:
    """The files the router service runs (named in its command), with the modules under
    router/ that they import."""
    command = " ".join(_router(compose).command)
    pending = [ROUTER / path for path in re.findall(r"\brouter/([\w./-]+\.(?:ts|mjs|js))\b", command)]
    seen: list[Path] = []
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.append(path)
        for relative in IMPORT.findall(path.read_text()):
            target = (path.parent / relative).resolve()
            candidates = [target, *(target.with_name(target.name + suffix) for suffix in (".ts", ".mjs", ".js"))]
            found = next((c for c in candidates if c.is_file() and ROUTER in c.parents), None)
            if found is not None:
                pending.append(found)
    return RouterSources(seen, "\n".join(path.read_text() for path in seen))


def test_the_router_sets_only_variables_its_config_reads(compose: Compose, router_sources: RouterSources) -> None:
    read = router_sources.variables()

    unknown = sorted(set(_router(compose).environment) - read)

    files = ", ".join(str(path.relative_to(ROOT)) for path in router_sources.files)
    assert not unknown, f"the router service sets {unknown}, which none of {files} reads"


def test_the_router_runs_in_production_without_development_values(
    compose: Compose, router_sources: RouterSources
) -> None:
    environment = _router(compose).environment
    development = router_sources.development_values()

    assert environment.get("ENVIRONMENT") == "production", "the router service does not set ENVIRONMENT=production"
    assert development, "no variable of the router falls back to a DEVELOPMENT_* value: has the check gone stale?"
    left = [variable for variable, value in development.items() if environment.get(variable, value) == value]
    assert not left, f"the router runs production with development values for {left}"


def test_the_router_and_the_subgraphs_agree_on_the_issuer_and_the_signing_secret(compose: Compose) -> None:
    router = _router(compose).environment
    disagree = [
        f"{service.name}: {variable} is not the router's {router_variable}"
        for service in _ours(compose)
        if service.command[:1] == ["serve"]
        for router_variable, field in (("OIDC_ISSUER", "oidc_issuer"), ("ROUTER_HMAC_SECRET", "router_hmac_secret"))
        if service.environment.get(variable := _variable(type(settings_for(service.command[1])), field))
        != router.get(router_variable)
    ]

    assert not disagree, "\n".join(disagree)


def test_the_routers_redis_urls_point_at_the_redis_service(compose: Compose) -> None:
    redis = {
        name
        for name, service in compose.services.items()
        if str(service.definition.get("image", "")).startswith("redis")
    }
    urls = {name: value for name, value in _router(compose).environment.items() if name.endswith("_REDIS_URL")}

    assert {"APQ_REDIS_URL", "RATE_LIMIT_REDIS_URL"} <= urls.keys()
    elsewhere = {name: url for name, url in urls.items() if urlsplit(url).hostname not in redis}
    assert not elsewhere, f"not the compose Redis ({sorted(redis)}): {elsewhere}"


# --- Keycloak ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REALM_FILE.read_text())
    return loaded


def _keycloak(compose: Compose) -> Service:
    (keycloak,) = (
        service for service in compose.services.values() if "keycloak" in str(service.definition.get("image"))
    )
    return keycloak


def test_keycloak_gets_every_value_the_realm_file_leaves_to_the_environment(compose: Compose) -> None:
    """An unset placeholder would be imported as it is written, a secret everyone knows."""
    placeholders = set(re.findall(r"\$\{(\w+)\}", REALM_FILE.read_text()))

    missing = sorted(placeholders - _keycloak(compose).environment.keys())

    assert not missing, f"the realm file's placeholders {missing} are not set for Keycloak"


def test_the_issuer_everyone_trusts_is_the_one_keycloak_writes_in_its_tokens(
    compose: Compose, realm: dict[str, Any]
) -> None:
    issuer = f"{_keycloak(compose).environment['KC_HOSTNAME']}/realms/{realm['realm']}"

    trusted = _router(compose).environment["OIDC_ISSUER"]
    assert trusted == issuer, f"the router trusts {trusted}, Keycloak (KC_HOSTNAME) issues as {issuer}"


def _scopes(client: dict[str, Any], realm: dict[str, Any]) -> list[dict[str, Any]]:
    names = set(client.get("defaultClientScopes", []))
    return [scope for scope in realm["clientScopes"] if scope["name"] in names]


def _mappers(client: dict[str, Any], realm: dict[str, Any]) -> list[dict[str, Any]]:
    """The protocol mappers that shape the client's access tokens every time: its own and
    those of its default scopes."""
    return [
        *client.get("protocolMappers", []),
        *(m for s in _scopes(client, realm) for m in s.get("protocolMappers", [])),
    ]


def test_every_client_gets_tokens_the_services_accept(realm: dict[str, Any]) -> None:
    """The audience the services check, and a subject: Keycloak 25 and later put ``sub`` in an
    access token only through a mapper (its ``basic`` scope, which an imported realm that
    lists its own scopes does not get by itself). The client id is always there, as ``azp``."""
    audience = settings_for("catalog").oidc_audience
    problems = []
    for client in realm["clients"]:
        mappers = _mappers(client, realm)
        if not any(m["config"].get("included.custom.audience") == audience for m in mappers):
            problems.append(f"{client['clientId']}: no {audience!r} audience")
        if not any(m["protocolMapper"] == "oidc-sub-mapper" for m in mappers):
            problems.append(f"{client['clientId']}: no sub")

    assert not problems, "\n".join(problems)


def test_every_user_attribute_in_a_token_is_declared_and_only_admins_change_it(realm: dict[str, Any]) -> None:
    """Keycloak 24 and later drop a user attribute its user profile does not declare (the
    ``tenant`` claim would vanish from every token), and an attribute users may edit would let
    a shopper name another store."""
    (profile,) = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    declared = {
        attribute["name"]: attribute
        for attribute in json.loads(profile["config"]["kc.user.profile.config"][0])["attributes"]
    }
    mapped = {
        mapper["config"]["user.attribute"]
        for client in realm["clients"]
        for mapper in _mappers(client, realm)
        if mapper["protocolMapper"] == "oidc-usermodel-attribute-mapper"
    }

    assert mapped, "no token carries a user attribute: has the check gone stale?"
    assert not mapped - declared.keys(), f"not declared in the realm's user profile: {sorted(mapped - declared.keys())}"
    editable = sorted(name for name in mapped if "user" in declared[name]["permissions"]["edit"])
    assert not editable, f"users may change {editable} themselves"


def test_every_scope_of_the_api_can_be_granted(realm: dict[str, Any]) -> None:
    defined = {scope["name"] for scope in realm["clientScopes"]}

    missing = sorted({*SCOPES, SERVICES_INTERNAL} - defined)

    assert not missing, f"the realm has no client scope {missing}"


def test_every_partner_the_router_lets_send_its_own_operations_can_sign_in_for_a_store(
    compose: Compose, realm: dict[str, Any]
) -> None:
    partners = [name.strip() for name in _router(compose).environment["ADHOC_CLIENTS"].split(",") if name.strip()]
    clients = {client["clientId"]: client for client in realm["clients"]}

    assert partners, "ADHOC_CLIENTS names no partner"
    for partner in partners:
        client = clients.get(partner)
        assert client is not None, f"ADHOC_CLIENTS names {partner!r}, which is not a client of the realm"
        assert not client["publicClient"] and client.get("serviceAccountsEnabled"), f"{partner}: not client credentials"
        assert any(m["config"].get("claim.name") == "tenant" for m in _mappers(client, realm)), f"{partner}: no tenant"
