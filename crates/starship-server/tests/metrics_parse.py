"""Reads an OpenMetrics exposition on standard input with the official
Prometheus Python client's strict parser, and prints its samples as JSON:
[{"name", "labels", "value", "type"}]. A document the parser refuses
exits non-zero with its complaint.
"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value, "type": family.type})
json.dump(samples, sys.stdout)
