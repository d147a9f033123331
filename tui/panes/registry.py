"""The Registry pane: registered models and their versions with alias badges, and for the
selected version its metrics and lineage, the alias history and the model card; `enter`
on a version opens its model card on a screen of its own, as `enter` opens a run.

Actions call the same engine as `pitboard model ...`: `p` evaluates the promotion gates in
a worker and shows them all in a modal before `core.monitoring.promotion.promote` moves `champion` (or,
chosen in the modal, `challenger`, like `pitboard model promote --to`); `r`
rolls `champion` back after a confirmation; `b` builds a bundle as a `package` job (it
shows up in the Jobs pane); `s` starts `pitboard serve NAME@champion` as a detached
process and shows its URL (see `tui/serve.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Markdown, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from core.cli._output import format_value
from core.store.clock import iso
from core.store.database import Store
from core.store.errors import PitboardError
from tui.keys import bind
from tui.panes.base import TAB_BINDINGS, EmptyState, PaletteAction, Pane
from tui.widgets.modals import ConfirmScreen
from tui.widgets.table import FilterTable

CHAMPION = "champion"
PROMOTE_TO = (CHAMPION, "challenger")  # the aliases the promote modal offers, the default first
BUNDLES = "bundles"  # folder beside the database where `b` writes bundles


@dataclass(frozen=True)
class VersionDetail:
    """What the pane shows for one version, read in one worker."""

    version: Any  # core.registry.versions.ModelVersion
    described: dict[str, Any]
    history: list[dict[str, Any]]
    card: str


def badges(aliases: tuple[str, ...] | list[str]) -> Text:
    """Aliases as word badges: `[champion] [challenger]` (a Text: brackets are not markup here)."""
    text = Text()
    for alias in aliases:
        text.append(" " if text else "")
        text.append(f"[{alias}]", style="bold green" if alias == CHAMPION else "bold")
    return text


def bundle_path(db_path: Path, mv: Any) -> Path:
    """Where `b` writes the bundle of `mv`: `bundles/NAME-VERSION.tar.gz` beside the database."""
    return db_path.resolve().parent / BUNDLES / f"{mv.name}-{mv.version}.tar.gz"


class RegistryPane(Pane):
    pane_id = "registry"
    title = "Registry"
    key = "3"
    TABS = "registry-tabs"
    empty_text = (
        "No registered models to show here yet.\n\n"
        "Register a run as a model version with:\n"
        "$ pitboard model register RUN --name NAME\n"
        "and promote it with:\n"
        "$ pitboard model promote NAME@VERSION --to champion"
    )

    BINDINGS = [
        *TAB_BINDINGS,
        bind("registry_info", "show_tab('info')", "Info", show=False),
        bind("registry_history", "show_tab('history')", "History", show=False),
        bind("registry_card", "show_tab('card')", "Card", show=False),
        bind("registry_promote", "promote", "Promote"),
        bind("registry_rollback", "rollback", "Rollback"),
        bind("registry_bundle", "bundle", "Bundle"),
        bind("registry_serve", "serve", "Serve"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.versions: list[Any] = []
        self.detail: VersionDetail | None = None
        self.served: Any = None  # the last service `s` started (tui.serve.Started)
        self._card_shown = ""

    def compose(self) -> ComposeResult:
        yield EmptyState(Text(self.empty_text), id="registry-empty")
        with Horizontal(id="registry-main"):
            yield FilterTable(id="model-versions")
            with Vertical(id="registry-detail"):
                yield Static("", id="version-line")
                with TabbedContent(id="registry-tabs"):
                    with TabPane("Info", id="info"):
                        yield FilterTable(id="info-table")
                    with TabPane("History", id="history"):
                        yield FilterTable(id="history-table")
                    with TabPane("Card", id="card"):
                        yield Markdown("", id="model-card")

    # -- loading ---------------------------------------------------------------------

    def reload(self) -> None:
        self.load_versions()

    @work(thread=True, exclusive=True, group="registry-versions", exit_on_error=False)
    def load_versions(self) -> None:
        from core.registry import versions as registry

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            versions = [mv for model in registry.list_models(store) for mv in registry.list_versions(store, model["name"])]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_versions, versions)

    def _show_versions(self, versions: list[Any]) -> None:
        self.versions = versions
        self.show_empty(not versions)
        table = self.query_one("#model-versions", FilterTable)
        table.set_rows(("version", "aliases", "score"), (
            (str(mv.id), (mv.ref, badges(mv.aliases), _primary(mv))) for mv in versions
        ), drop=("score",))  # the version line says the score too; the aliases are the facts here
        if versions and self.focus_is_free():
            table.table.focus()
        self._load_selected(force=True)

    @on(FilterTable.Highlighted, "#model-versions")
    def _version_highlighted(self, event: FilterTable.Highlighted) -> None:
        event.stop()
        self._load_selected()

    @on(FilterTable.Selected, "#model-versions")
    def _version_selected(self, event: FilterTable.Selected) -> None:
        """`enter` on a version opens its model card."""
        from tui.screens.model_card import ModelCardScreen

        event.stop()
        self.app.push_screen(ModelCardScreen(int(event.key)))

    def _load_selected(self, *, force: bool = False) -> None:
        key = self.query_one("#model-versions", FilterTable).selected_key
        if key is not None and (force or self.detail is None or str(self.detail.version.id) != key):
            self.load_detail(int(key))

    @work(thread=True, exclusive=True, group="registry-detail", exit_on_error=False)
    def load_detail(self, version_id: int) -> None:
        from core.registry import versions as registry
        from tui.screens.model_card import version_card

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            mv = registry.version_by_id(store, version_id)
            detail = VersionDetail(mv, registry.describe(store, mv), registry.history(store, mv.name), version_card(store, mv))
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_detail, detail)

    # -- showing ---------------------------------------------------------------------

    def _show_detail(self, detail: VersionDetail) -> None:
        if detail == self.detail:
            return  # read again on a reload and unchanged: redrawing the card is a pane switch's main cost
        self.detail = detail
        mv, described = detail.version, detail.described
        self.query_one("#version-line", Static).update(Text.assemble(
            (mv.ref, "bold"), " ", badges(mv.aliases) or "no aliases",
            f"  {described['estimator']}  {described['primary_metric']} {format_value(described['primary_value'])}"
            f"  registered {iso(mv.created_at)}",
        ))
        self.query_one("#info-table", FilterTable).set_rows(("field", "value"), _info_rows(described))
        self.query_one("#history-table", FilterTable).set_rows(
            ("when", "alias", "action", "from", "to", "by", "reason"),
            ((str(entry["id"]), _history_cells(entry)) for entry in reversed(detail.history)),
            drop=("by",), fit="reason",
        )
        self._show_card()

    @on(TabbedContent.TabActivated, "#registry-tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        self._show_card()

    def _show_card(self) -> None:
        """The model card is rendered only while its tab is shown: as Markdown it is about a
        hundred widgets, which every switch to this pane would otherwise restyle."""
        shown = self.query_one("#registry-tabs", TabbedContent).active == "card"
        card = self.detail.card if shown and self.detail is not None else ""
        if card != self._card_shown:
            self._card_shown = card
            self.query_one("#model-card", Markdown).update(card)

    # -- actions ---------------------------------------------------------------------

    def _selected(self) -> Any | None:
        """The highlighted version (even while its detail is still loading)."""
        key = self.query_one("#model-versions", FilterTable).selected_key
        mv = next((mv for mv in self.versions if str(mv.id) == key), None)
        if mv is None:
            self.notify("No model version selected.", severity="warning")
        return mv

    def action_promote(self) -> None:
        mv = self._selected()
        if mv is not None:
            self.evaluate_gates(mv.ref)

    @work(thread=True, exclusive=True, group="registry-gates", exit_on_error=False)
    def evaluate_gates(self, ref: str) -> None:
        """The gates of every alias in PROMOTE_TO that `ref` does not hold yet, for the modal."""
        from core.monitoring.promotion import evaluate_gates
        from core.registry import versions as registry
        from tui.screens.promote import AliasGates

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            try:
                candidate = registry.resolve(store, ref)
                choices = []
                for alias in PROMOTE_TO:
                    holder = registry.alias_holder(store, candidate.name, alias)
                    if holder is None or holder.id != candidate.id:
                        choices.append(AliasGates(alias, holder.ref if holder else None,
                                                  evaluate_gates(store, candidate, alias)))
                if not choices:
                    raise PitboardError(f"{ref} already holds {' and '.join(PROMOTE_TO)}")
            except PitboardError as error:
                self.app.call_from_thread(self.notify, str(error), severity="error")
                return
        self.app.call_from_thread(self._ask_promote, ref, choices)

    def _ask_promote(self, ref: str, choices: list[Any]) -> None:
        from tui.screens.promote import PromoteScreen

        self.app.push_screen(PromoteScreen(ref, choices), lambda alias: alias is not None and self.run_promote(ref, alias))

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False)
    def run_promote(self, ref: str, alias: str) -> None:
        from core.monitoring.promotion import promote

        def act(store: Store) -> str:
            promotion = promote(store, ref, alias, reason="promoted from the app")
            if promotion.moved is None:
                failed = ", ".join(g.name for g in promotion.gates if not g.passed)
                raise PitboardError(f"{ref}: gates failed when promoting: {failed}")
            was = promotion.moved["from"]
            return f"{ref} is now {alias}" + (f" (was v{was})" if was is not None else "")

        self.run_engine_action(act)

    def action_rollback(self) -> None:
        mv = self._selected()
        if mv is None:
            return
        self.app.push_screen(
            ConfirmScreen(f"Roll back {mv.name}@{CHAMPION}?",
                          f"{mv.name}@{CHAMPION} goes back to the version that held it before its last move.",
                          confirm_label="Roll back"),
            lambda confirmed: confirmed and self.run_rollback(mv.name),
        )

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False)
    def run_rollback(self, name: str) -> None:
        from core.registry.versions import rollback

        def act(store: Store) -> str:
            moved = rollback(store, name, CHAMPION, reason="rolled back from the app")
            return f"{name}@{CHAMPION} rolled back from v{moved['from']} to v{moved['to']}"

        self.run_engine_action(act)

    def action_bundle(self) -> None:
        mv = self._selected()
        if mv is not None:
            self.start_bundle(mv.ref, str(bundle_path(self.app.db_path, mv)))

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False)
    def start_bundle(self, ref: str, out: str) -> None:
        from core.jobs.runner import start_job

        Path(out).parent.mkdir(parents=True, exist_ok=True)

        def act(store: Store) -> str:
            job = start_job(store, "package", {"ref": ref, "out": out}, title=f"package {ref}")
            return f"job {job} builds {out}"

        self.run_engine_action(act, reload=False)

    def action_serve(self) -> None:
        mv = self._selected()
        if mv is not None:
            self.notify(f"Starting pitboard serve {mv.name}@{CHAMPION}…")
            self.start_serving(f"{mv.name}@{CHAMPION}")

    @work(thread=True, exclusive=True, group="registry-serve", exit_on_error=False)
    def start_serving(self, ref: str) -> None:
        from tui.serve import start_service

        try:
            started = start_service(self.app.db_path, ref)
        except PitboardError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.served = started
        self.app.call_from_thread(
            self.notify, f"Serving {ref} on {started.url} (pid {started.pid}, log {started.log.name})", timeout=30)

    def palette_actions(self) -> list[PaletteAction]:
        if self.detail is None:
            return []
        mv = self.detail.version
        return [
            PaletteAction(f"Promote {mv.ref} (champion or challenger)", "model promote (key p)", self.action_promote),
            PaletteAction(f"Roll back {mv.name}@{CHAMPION}", "model rollback (key r)", self.action_rollback),
            PaletteAction(f"Package {mv.ref} as a bundle", "model package (key b)", self.action_bundle),
            PaletteAction(f"Serve {mv.name}@{CHAMPION}", "serve (key s)", self.action_serve),
        ]


def _primary(mv: Any) -> Text:
    """The primary metric's value (its name is in the version line: the list stays narrow)."""
    metric = mv.info.get("primary_metric")
    return Text(format_value(mv.info.get("metrics", {}).get(metric)), justify="right")


def _info_rows(described: dict[str, Any]) -> list[tuple[str, tuple[str, str]]]:
    """Metrics, then lineage, then the signature, as (field, value) rows.

    The model's SHA-256 is left out here (`pitboard model show` has it): skops writes the
    same fitted model as different bytes from one save to the next, so it would make this
    screen differ between two builds of the same seeded fixture.
    """
    rows = [("task", described["task"]), ("estimator", described["estimator"])]
    rows += [(f"metric {name}", format_value(value)) for name, value in sorted(described["metrics"].items())]
    rows += [(f"lineage {name}", format_value(value)) for name, value in described["lineage"].items()]
    rows += [("tags", ", ".join(f"{k}={v}" for k, v in described["tags"].items()))] if described["tags"] else []
    rows.append(("features", ", ".join(f["name"] for f in described["signature"])))
    return [(name, (name, value or "")) for name, value in rows]


def _history_cells(entry: dict[str, Any]) -> tuple[str | Text, ...]:
    action = entry["action"] + (" (forced)" if entry["forced"] else "")
    return (
        iso(entry["ts"]), entry["alias"], Text(action, style="bold yellow" if entry["forced"] else ""),
        "" if entry["from_version"] is None else f"v{entry['from_version']}",
        "" if entry["to_version"] is None else f"v{entry['to_version']}",
        entry["user"], entry["reason"],
    )
