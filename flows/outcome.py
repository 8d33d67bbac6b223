"""How a flow run ends, for the people who operate the schedule: an expected failure (an
NgobriefError, or a folder that cannot be written) ends the run Failed with ONE line as its state
message and an artifact saying what failed and what stays published; a real bug keeps its traceback.
Every run records how it ended (for `ngobrief status`) and refreshes the `ngobrief_published`
variable that failure notifications quote."""

from __future__ import annotations

import functools
import inspect
import logging
import typing

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed

from flows.tasks import artifact_key
from ngobrief import status
from ngobrief.cli import _quiet_traces_of_user_errors as quiet_traces_of_user_errors
from ngobrief.errors import NgobriefError, os_error_message

# Flow time limits: past them the run ends TimedOut (and the failure automation fires).
ANNUAL_TIMEOUT = 2 * 3600
ON_DEMAND_TIMEOUT = 30 * 60
# The Prefect variable the notification payload reads the published edition from.
PUBLISHED_VARIABLE = "ngobrief_published"


def one_line(exc: BaseException) -> str:
    """`NgobriefError (PublishingBlocked): no brief for 2013: ...` — the kind, then the message, on one line."""
    if isinstance(exc, NgobriefError):
        kind, text = type(exc).__name__, str(exc)
    else:  # OSError: a warehouse path that does not exist, an outputs folder that is a file
        kind, text = "OutputError", os_error_message(exc)
    head = "NgobriefError" if kind == "NgobriefError" else f"NgobriefError ({kind})"
    return f"{head}: {' '.join(text.split())}"


def publish_variable(published: dict) -> None:
    """Keep the published edition where the automation's template can read it ({{ variables.… }})."""
    from prefect.variables import Variable

    try:
        Variable.set(PUBLISHED_VARIABLE, status.describe_published(published), overwrite=True)
    except Exception as exc:  # noqa: BLE001 — a notification detail must never fail the run
        logging.getLogger(__name__).warning("could not update the %s variable: %s", PUBLISHED_VARIABLE, exc)


def operated(fn):
    """Wrap a flow function: expected failures become one line, and every ending is recorded."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        from prefect.runtime import flow_run

        # Task runs that fail with a user error log their one line, without the traceback (the same
        # filter `ngobrief run` installs), in a worker's flow-run process too.
        quiet_traces_of_user_errors()
        warehouse = signature.bind_partial(*args, **kwargs).arguments.get("warehouse")
        try:
            result = fn(*args, **kwargs)
        except (NgobriefError, OSError) as exc:
            line = one_line(exc)
            published = status.published_edition(warehouse)
            status.record_run(name=flow_run.name, flow=flow_run.flow_name, ok=False, state="Failed",
                              message=line, run_id=flow_run.id)
            publish_variable(published)
            create_markdown_artifact(
                key=artifact_key(f"{flow_run.name}-failed"),
                description=f"Failed: {line}"[:500],
                markdown=(f"# {flow_run.name} failed\n\n**What failed:** {line}\n\n"
                          f"**What stays published:** {status.describe_published(published)}\n\n"
                          "Nothing of this run was published; the warehouse and briefs above are unchanged "
                          "by it.\n"))
            get_run_logger().error(line)
            # The exception rides along so that a direct call (`ngobrief run`) still raises it.
            return Failed(message=line, data=exc)
        except BaseException as exc:
            status.record_run(name=flow_run.name or "", flow=flow_run.flow_name or "", ok=False,
                              state=type(exc).__name__, message=" ".join(str(exc).split())[:500], run_id=flow_run.id)
            raise
        status.record_run(name=flow_run.name, flow=flow_run.flow_name, ok=True, state="Completed", run_id=flow_run.id)
        publish_variable(status.published_edition(warehouse))
        return result

    # The flow's annotations resolved here: Prefect validates parameters against the wrapper, whose
    # module does not define the names (Literal, Path) the flow's string annotations use.
    hints = typing.get_type_hints(fn)
    run.__annotations__ = hints
    run.__signature__ = signature.replace(
        parameters=[p.replace(annotation=hints.get(n, p.annotation)) for n, p in signature.parameters.items()],
        return_annotation=hints.get("return", signature.return_annotation))
    return run
