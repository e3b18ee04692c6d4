"""Reads one schemathesis run's NDJSON events and JSON report (scripts/fuzz)
and fails unless the run did real work: enough answers in 2xx, from enough
operations, some of them through the stateful phase's links.

    python3 scripts/fuzz-summary.py EVENTS.ndjson REPORT.json \
        --min-2xx N --min-operations N --min-stateful-2xx N
"""

import argparse
import collections
import json
import sys


def interactions(events_path):
    """(phase, "METHOD /path/{template}", status) of every call the run made."""
    with open(events_path, encoding="utf-8") as events:
        for line in events:
            scenario = json.loads(line).get("ScenarioFinished")
            if not scenario:
                continue
            recorder = scenario.get("recorder") or {}
            cases = recorder.get("cases") or {}
            for case_id, interaction in (recorder.get("interactions") or {}).items():
                response = interaction.get("response")
                if response is None:
                    continue
                case = (cases.get(case_id) or {}).get("value") or {}
                request = interaction["request"]
                operation = f"{case.get('method', request['method'])} {case.get('path', request['uri'])}"
                yield scenario["phase"], operation, response["status_code"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("events")
    parser.add_argument("report")
    parser.add_argument("--min-2xx", type=int, required=True)
    parser.add_argument("--min-operations", type=int, required=True)
    parser.add_argument("--min-stateful-2xx", type=int, required=True)
    args = parser.parse_args()

    with open(args.report, encoding="utf-8") as f:
        report = json.load(f)

    calls = 0
    statuses = collections.Counter()
    ok_by_phase = collections.Counter()
    ok_operations = set()
    for phase, operation, status in interactions(args.events):
        calls += 1
        statuses[status // 100] += 1
        if 200 <= status < 300:
            ok_by_phase[phase] += 1
            ok_operations.add(operation)

    ok = sum(ok_by_phase.values())
    stateful = report["phases"]["stateful"]
    print(
        f"   {calls} calls: {statuses[2]} 2xx, {statuses[4]} 4xx, {statuses[5]} 5xx; "
        f"2xx by phase: {dict(sorted(ok_by_phase.items()))}; "
        f"{len(ok_operations)} of {report['operations']['tested']} operations answered 2xx; "
        f"stateful phase: {stateful['status']}"
    )
    sys.stdout.flush()
    problems = []
    if ok < args.min_2xx:
        problems.append(f"only {ok} calls answered 2xx (at least {args.min_2xx} expected)")
    if len(ok_operations) < args.min_operations:
        problems.append(
            f"only {len(ok_operations)} operations answered 2xx (at least {args.min_operations} expected)"
        )
    if stateful["status"] not in ("success", "failure"):
        problems.append(f"the stateful phase did not run ({stateful['status']}: {stateful.get('skip_reason')})")
    if ok_by_phase["stateful"] < args.min_stateful_2xx:
        problems.append(
            f"only {ok_by_phase['stateful']} stateful calls answered 2xx "
            f"(at least {args.min_stateful_2xx} expected)"
        )
    for problem in problems:
        print(f"fuzz: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
