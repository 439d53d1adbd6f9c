"""`glame check` for 1C: one `$top=1` request per entity set, a line per set."""

from glame_pipelines.clients.onec import OnecNotPublished, requested_location
from glame_pipelines.defs.onec.resources import ENTITY_SET_DEFAULTS, OnecResource
from glame_pipelines.sources import CheckFailed, check_retry


def check(resource: OnecResource) -> str:
    """The sales register first (it proves the URL and the credentials), then every set: published, not
    published with the remedies, or turned off."""
    client = resource.client(retry=check_retry())
    client.timeout = 20
    lines, missing = [], 0
    for field, (variable, _) in ENTITY_SET_DEFAULTS.items():
        entity_set = resource.entity_set(field)
        if entity_set is None:
            lines.append(f"     off            {variable} is empty: this base has no such set (turned off)")
            continue
        try:
            client.probe(entity_set)
        except OnecNotPublished:
            missing += 1
            remedy = "publish it in 1C, or set " + variable + " to the name this base uses"
            if field in resource.empty_means_off:
                remedy += ", or leave it empty to turn it off"
            lines.append(
                f"     NOT PUBLISHED  {entity_set} ({variable}) is not published in 1C: HTTP 404 for "
                f"{requested_location(client.url(entity_set, {}))}; {remedy}"
            )
        else:
            lines.append(f"     published      {entity_set}")
    if missing:
        raise CheckFailed(f"{missing} entity set(s) not published\n" + "\n".join(lines))
    return f"{len(lines)} entity sets checked at {requested_location(client.base_url)}\n" + "\n".join(lines)
