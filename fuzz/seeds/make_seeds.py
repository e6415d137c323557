#!/usr/bin/env python3
"""Writes the hand-made seeds of the three fuzz targets into fuzz/corpus/<target>/ (docs/fuzzing.md).
Run from fuzz/: python3 seeds/make_seeds.py. Each seed is named seed-<name>; libFuzzer adds its own
(named by content hash) to the same directories."""
import hashlib, json, os

SEP = b"\xff"
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")

CLASSIC = ("{ users { name reviews { body product { upc name reviews { author { username reviews { "
           "product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }")
# The operation of the public gateways benchmark (graphql-hive/graphql-gateways-benchmark),
# written here from its shape: User/Review/Product fragments over users and topProducts.
HEAVY = """fragment User on User { id username name }
fragment Review on Review { id body }
fragment Product on Product { inStock name price shippingEstimate upc weight }
query TestQuery {
  users { ...User reviews { ...Review product { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } } } }
  topProducts { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } }
}"""

def fragments(n):
    defs = ["fragment F0 on User { name }"] + [
        f"fragment F{i} on User {{ ...F{i-1} ...F{i-1} }}" for i in range(1, n + 1)]
    return "{ me { ...F%d } }\n" % n + "\n".join(defs)

def aliases(n):
    return "{ " + " ".join(f"a{i}: me {{ name }}" for i in range(n)) + " }"

def deep(n):
    q = "name"
    for i in range(n):
        q = ("reviews { author { " + q + " } }") if i % 2 == 0 else ("name " + q)
    return "{ users { " + q + " } }"

operation = {
    "classic": CLASSIC,
    "heavy": "# TestQuery\n" + HEAVY,
    "fragments-8": fragments(8),
    "braces-60": "{" * 60 + "}" * 60,
    "aliases-40": aliases(40),
    "deep-12": deep(12),
    "two-operations": "# B\nquery A { me { id } }\nquery B { users { id name } }",
    "mutation": 'mutation { checkout(input: {userId: "1", items: [{upc: "1", quantity: 2}], paymentToken: "tok_ok"}) { id status items { quantity product { name stock } } } }',
    "variables": 'query Q($id: ID!, $f: Boolean = true) { user(id: $id) { name @include(if: $f) reviews @skip(if: false) { body } } }',
    "introspection": "{ __typename __schema { queryType { name } types { name kind } } }",
    "typed": '{ product(upc: "1") { ... on Product { upc name } __typename } tracked(upc: "2") }',
    "syntax-error": "{ users { name ",
    "unknown-field": "{ users { nope } }",
}

def request(method, qs=b"", headers=b"", body=b""):
    return bytes([method]) + qs + SEP + headers + SEP + body

JSON = b"content-type: application/json"
q = lambda s: json.dumps({"query": s}).encode()
req = {
    "post-json": request(1, headers=JSON + b"\naccept: application/graphql-response+json", body=q("{ users { name } }")),
    "post-classic": request(1, headers=JSON, body=q(CLASSIC)),
    "get-query": request(0, qs=b"query=%7B%20users%20%7B%20id%20%7D%20%7D&operationName=&variables=%7B%7D",
                         headers=b"accept: application/json"),
    "get-mutation": request(0, qs=b"query=mutation%20%7B%20__typename%20%7D", headers=b"accept: */*"),
    "head": request(2, qs=b"query=%7B__typename%7D"),
    "batch": request(1, headers=JSON, body=json.dumps([{"query": "{ me { name } }"}, {"query": "{ users { id } }"}, 3]).encode()),
    "variables": request(1, headers=JSON + b"; charset=utf-8", body=json.dumps({
        "query": "query Q($id: ID!) { user(id: $id) { name } }", "operationName": "Q",
        "variables": {"id": "1"}, "extensions": {}}).encode()),
    "apq": request(1, headers=JSON, body=json.dumps({"extensions": {"persistedQuery": {
        "version": 1, "sha256Hash": hashlib.sha256(b"{ users { id } }").hexdigest()}}}).encode()),
    "text-plain": request(1, headers=b"content-type: text/plain", body=b'{"query":"{ me { id } }"}'),
    "accept-q": request(1, headers=JSON + b"\naccept: application/json;q=0.5, application/graphql-response+json;q=0.9, */*;q=0.1",
                        body=q("{ __typename }")),
    "charset": request(1, headers=b"content-type: application/json; charset=iso-8859-1", body=q("{ __typename }")),
    "not-json": request(1, headers=JSON, body=b'{"query": "{ me '),
    "wrong-types": request(1, headers=JSON, body=b'{"query": 1, "variables": [], "operationName": {}}'),
    "gzip": request(1, headers=JSON + b"\naccept-encoding: gzip, br", body=q(CLASSIC)),
    "browser": request(0, headers=b"accept: text/html"),
    "options": request(4, headers=b"origin: http://example.com\naccept: application/json"),
    "plan-header": request(1, headers=JSON + b"\nweft-query-plan: include", body=q("{ me { name } }")),
}

def answer(*parts):
    return SEP.join(p if isinstance(p, bytes) else json.dumps(p).encode() for p in parts)

sub = {
    "users": bytes([0]) + answer({"data": {"users": [{"id": "1", "name": "Ada", "username": "ada"}]}}),
    "users-hijack": bytes([0]) + answer({"data": {"users": [{"id": 1, "name": {"x": 1}, "username": "ada", "email": "leaked@x", "__typename": "Admin"}]}, "extensions": {"x": 1}}),
    "me-entities": bytes([1]) + answer(
        {"data": {"me": {"__typename": "User", "id": "1", "name": "Ada"}}},
        {"data": {"_entities": [{"__typename": "User", "reviews": [{"id": "1", "body": "ok", "product": {"__typename": "Product", "upc": "1"}}]}]}},
        {"data": {"_entities": [{"__typename": "Product", "name": "Table", "price": 899}]}}),
    "entities-count": bytes([2]) + answer(
        {"data": {"topProducts": [{"__typename": "Product", "upc": "1", "name": "A", "price": 1, "weight": 2}, {"__typename": "Product", "upc": "2", "name": "B", "price": 3, "weight": 4}]}},
        {"data": {"_entities": [{"__typename": "Product", "inStock": True, "shippingEstimate": 5}]}}),
    "classic-errors": bytes([3]) + answer(
        {"data": {"users": [{"__typename": "User", "id": "1", "name": "Ada"}]}, "errors": [{"message": "partial", "path": ["users", 0, "name"]}]},
        {"data": None, "errors": [{"message": "down", "extensions": {"code": "X"}}]}),
    "numbers": bytes([4]) + answer(
        b'{"data":{"a":{"__typename":"User","id":12345678901234567890,"n":"x"}}}',
        b'{"data":{"b":{"__typename":"Product","upc":"1","stock":-0},"tracked":true}}',
        b'{"data":{"_entities":[{"__typename":"Product","stock":1e400}]}}'),
    "fragments": bytes([5]) + answer(
        {"data": {"topProducts": [{"upc": "1", "name": "A", "price": 2147483648, "weight": 1.0}]}},
        {"data": {"_entities": [{"__typename": "Product", "reviews": [{"id": "1", "body": None, "author": {"__typename": "User", "id": "1"}}]}]}},
        {"data": {"_entities": [{"__typename": "User", "id": "1", "username": "ada", "name": "Ada"}]}}),
    "garbage": bytes([3]) + b'{"data":{"users":[{"name":"\\ud800","reviews":[' + b"[" * 200 + b"\xc0\x80",
    "orders": bytes([6]) + answer(
        {"data": {"ordersByStatus": [{"__typename": "Order", "id": "1", "status": "SHIPPED", "failureReason": None, "user": {"__typename": "User", "id": "1"}, "items": [{"quantity": 1, "product": {"__typename": "Product", "upc": "1"}}]}]}},
        {"data": {"_entities": [{"__typename": "User", "name": "Ada"}]}},
        {"data": {"_entities": [{"__typename": "Product", "name": "A", "stock": "3"}]}}),
    "not-object": bytes([1]) + answer([1, 2], "x", None, b"", b"   ", b'{"data":{"me":{}}} trailing'),
}

for target, seeds in (("operation", {k: v.encode() for k, v in operation.items()}), ("request", req), ("subgraph_answer", sub)):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)
print("ok")
