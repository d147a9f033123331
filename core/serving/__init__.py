"""Serving: answering prediction requests and logging every answer.

`service` is the HTTP service, `predict` checks inputs and scores them (with the
bit-identical numpy `fastpath` where it applies), `probe` proves a loaded model answers
before it is trusted, `offline` scores files (`pitboard predict`), `batching` joins
concurrent requests, `predictlog` writes the prediction log and `service_errors` counts
failed requests.
"""
