"""Failure notifications, declared here and set up by `make deploy` (`python -m flows.notifications`).

One Prefect automation fires when a flow run of our deployments enters Failed, Crashed or TimedOut,
or turns Late (a scheduled run not started within the server's late-run threshold); its action posts
a JSON payload through a Prefect webhook block to $NGOBRIEF_NOTIFY_URL. Running it again updates the
same block and automation in place, so deploying twice still gives one POST per failure."""

from __future__ import annotations

import os
import sys

from prefect.blocks.webhook import Webhook
from prefect.client.orchestration import get_client
from prefect.events.actions import CallWebhook
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

from flows.outcome import PUBLISHED_VARIABLE, publish_variable
from ngobrief import status

URL_ENV = "NGOBRIEF_NOTIFY_URL"
BLOCK_NAME = "ngobrief-notify"
AUTOMATION_NAME = "ngobrief-run-failed-or-late"
DEPLOYMENTS = ("annual-refresh/annual-refresh", "brief-on-demand/brief-on-demand")
EVENTS = ("prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut",
          "prefect.flow-run.Late")


def ui_base() -> str:
    """The UI's address: PREFECT_UI_URL, else the API's address without /api."""
    ui = PREFECT_UI_URL.value()
    if ui:
        return ui.rstrip("/")
    api = (PREFECT_API_URL.value() or "").rstrip("/")
    return api[:-len("/api")] if api.endswith("/api") else api


def payload_template(ui: str) -> str:
    """The JSON body, a Jinja template the server renders for each firing. The state and its message
    come from the event itself (the state the run entered, not whatever it is in by now); the
    published edition from the variable every run and every deploy keep current."""
    return ("{\n"
            '  "deployment": {{ (flow.name ~ "/" ~ deployment.name) | tojson }},\n'
            '  "flow_run": {"name": {{ flow_run.name | tojson }}, "id": {{ flow_run.id | string | tojson }}},\n'
            '  "state": {{ event.resource["prefect.state-name"] | tojson }},\n'
            '  "error": {{ (event.resource["prefect.state-message"] or "") | tojson }},\n'
            f'  "published": {{{{ variables.{PUBLISHED_VARIABLE} | tojson }}}},\n'
            f'  "url": {{{{ ("{ui}/runs/flow-run/" ~ flow_run.id) | tojson }}}}\n'
            "}")


def automation(block_id, deployment_ids) -> AutomationCore:
    return AutomationCore(
        name=AUTOMATION_NAME,
        description=f"POST to ${URL_ENV} when a run of {', '.join(DEPLOYMENTS)} fails, crashes, times out or is late "
                    "(declared in flows/notifications.py; `make deploy` keeps it up to date).",
        trigger=EventTrigger(
            expect=set(EVENTS),
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={"prefect.resource.role": "deployment",
                           "prefect.resource.id": [f"prefect.deployment.{d}" for d in deployment_ids]},
            for_each={"prefect.resource.id"},
            posture=Posture.Reactive, threshold=1, within=0),
        actions=[CallWebhook(block_document_id=block_id, payload=payload_template(ui_base()))])


def set_up(notify_url: str | None) -> str:
    """Create or update the webhook block and the automation; without a URL, remove ours. Says what it did."""
    with get_client(sync_client=True) as client:
        existing = client.read_automations_by_name(AUTOMATION_NAME)
        if not notify_url:
            for a in existing:
                client.delete_automation(a.id)
            return (f"no notification is set up: {URL_ENV} is not set"
                    + (" (the earlier notification automation was removed)" if existing else "")
                    + f"; set {URL_ENV} to a webhook URL and run `make deploy` again")
        # A private or loopback address is allowed: the server runs on this machine, and so may the relay.
        block_id = Webhook(method="POST", url=notify_url, headers={"Content-Type": "application/json"},
                           allow_private_urls=True).save(BLOCK_NAME, overwrite=True)
        deployment_ids = [client.read_deployment_by_name(name).id for name in DEPLOYMENTS]
        wanted = automation(block_id, deployment_ids)
        if existing:
            client.update_automation(existing[0].id, wanted)
            for extra in existing[1:]:
                client.delete_automation(extra.id)
            did = "updated"
        else:
            client.create_automation(wanted)
            did = "created"
    publish_variable(status.published_edition())
    return (f"notifications: automation {AUTOMATION_NAME!r} {did}: Failed, Crashed, TimedOut or Late runs of "
            f"{', '.join(DEPLOYMENTS)} POST JSON to {URL_ENV} (webhook block {BLOCK_NAME!r})")


if __name__ == "__main__":
    print(set_up(os.environ.get(URL_ENV, "").strip() or None))
    sys.exit(0)
