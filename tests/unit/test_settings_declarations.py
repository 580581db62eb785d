"""pyscale/settings/declarations.py: every setting declared once, completely, and the model
(Settings and its groups) holding exactly the declared settings."""

import dataclasses

import pytest

from pyscale import clouds, settings
from pyscale.settings import declarations, model
from pyscale.settings.kinds import Choice, Sized
from pyscale.settings.spec import Setting, honoured_by

SETTINGS = declarations.SETTINGS
# Defaults a cloud does not offer, on purpose: OVHcloud has no managed certificate, so its
# staging and prod stacks must say how TLS ends (the parser says so when they do not).
DEFAULTS_TO_SET = {("tls", "ovh", "staging"), ("tls", "ovh", "prod")}


def ids(setting: Setting) -> str:
    return setting.key


def test_keys_are_declared_once() -> None:
    keys = [s.key for s in SETTINGS]
    assert len(keys) == len(set(keys))
    assert {s.top for s in SETTINGS if "." in s.key} == {g.name for g in declarations.GROUPS}


@pytest.mark.parametrize("setting", SETTINGS, ids=ids)
def test_every_declaration_has_a_doc_line(setting: Setting) -> None:
    assert setting.doc.strip() and "\n" not in setting.doc, setting.key
    assert setting.doc[0].isupper() and setting.doc.endswith("."), setting.key


@pytest.mark.parametrize("setting", SETTINGS, ids=ids)
def test_every_declaration_has_a_default_or_says_what_unset_means(setting: Setting) -> None:
    for name in honoured_by(setting.key):
        for env in settings.ENVIRONMENTS:
            value = setting.default_for(env, env, clouds.get(name))
            assert value is not None or setting.unset, (setting.key, name, env)


@pytest.mark.parametrize("setting", SETTINGS, ids=ids)
def test_every_setting_is_applied_somewhere(setting: Setting) -> None:
    assert honoured_by(setting.key), setting.key


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS if isinstance(s.kind, Choice | Sized)], ids=ids
)
def test_defaults_are_values_the_cloud_offers(setting: Setting) -> None:
    for name in honoured_by(setting.key):
        cloud = clouds.get(name)
        for env in settings.ENVIRONMENTS:
            value = setting.default_for(env, env, cloud)
            if value is None or (setting.key, name, env) in DEFAULTS_TO_SET:
                continue
            assert value in setting.kind.options(cloud), (setting.key, name, env, value)


def test_environment_defaults_cover_every_environment() -> None:
    for name in clouds.NAMES:
        defaults = clouds.get(name).defaults
        for table in (defaults.node_size, defaults.database_size, defaults.cache_size):
            assert set(table) == set(settings.ENVIRONMENTS), name


def test_the_model_holds_exactly_the_declared_settings() -> None:
    """A field without a declaration (or the reverse) would be a setting nobody can set."""
    plain = [s for s in SETTINGS if not s.secret]
    top = {model.field_name(s.key) for s in plain if "." not in s.key}
    fields = {f.name for f in dataclasses.fields(settings.Settings)} - {"stack"}
    assert fields == top | set(model.GROUP_MODELS)
    for group, cls in model.GROUP_MODELS.items():
        declared = {model.field_name(s.key) for s in plain if s.top == group and "." in s.key}
        assert {f.name for f in dataclasses.fields(cls)} == declared, group


def test_secrets_never_reach_the_model() -> None:
    secrets = [s for s in SETTINGS if s.secret]
    assert [s.key for s in secrets] == ["alertSlackUrl", "alertSmtpPassword", "monitoringToken"]
    fields = {f.name for f in dataclasses.fields(settings.Settings)}
    assert not {model.field_name(s.key) for s in secrets} & fields


def test_field_names_follow_the_keys() -> None:
    assert model.field_name("database.readReplicas") == "read_replicas"
    assert model.field_name("ovhServiceName") == "ovh_service_name"
    assert model.field_name("tls") == "tls"
