"""Profiles: created on first sight, changed only by their owner."""

from typing import Any

from tests.support.graphql import data, error_codes

ME = "{ me { id email name addresses { id city country } } }"
ADD_ADDRESS = """
mutation($input: AddressInput!) { addAddress(input: $input) { id city country } }
"""
HOME = {"recipient": "Ada", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "us"}


async def test_me_creates_the_profile_from_the_token_once(stack: Any, token: Any) -> None:
    users = stack.client("users")
    ada = token("ada", email="Ada@Example.com", name="Ada")

    first = data(await users(ME, token=ada))["me"]
    second = data(await users(ME, token=ada))["me"]

    assert first == {"id": "ada", "email": "ada@example.com", "name": "Ada", "addresses": []}
    assert second == first


async def test_owner_edits_profile_and_addresses(stack: Any, token: Any) -> None:
    users = stack.client("users")
    ada = token("ada")

    data(
        await users(
            'mutation { updateProfile(input: {name: "Ada L.", email: "ada@lovelace.org"}) { name } }', token=ada
        )
    )
    added = data(await users(ADD_ADDRESS, {"input": HOME}, token=ada))["addAddress"]
    me = data(await users(ME, token=ada))["me"]

    assert me["name"] == "Ada L." and me["email"] == "ada@lovelace.org"
    assert me["addresses"] == [{"id": added["id"], "city": "Springfield", "country": "US"}]

    data(await users("mutation($id: ID!) { removeAddress(id: $id) { id } }", {"id": added["id"]}, token=ada))
    assert data(await users(ME, token=ada))["me"]["addresses"] == []


async def test_nobody_removes_someone_elses_address(stack: Any, token: Any) -> None:
    users = stack.client("users")
    added = data(await users(ADD_ADDRESS, {"input": HOME}, token=token("ada")))["addAddress"]

    body = await users(
        "mutation($id: ID!) { removeAddress(id: $id) { id } }", {"id": added["id"]}, token=token("mallory")
    )

    assert error_codes(body) == ["NOT_FOUND"]
    assert len(data(await users(ME, token=token("ada")))["me"]["addresses"]) == 1


async def test_bad_profile_input_is_refused(stack: Any, token: Any) -> None:
    users = stack.client("users")
    ada = token("ada")
    cases = [
        ('mutation { updateProfile(input: {email: "not-an-email"}) { id } }', {}),
        ("mutation($n: String!) { updateProfile(input: {name: $n}) { id } }", {"n": "x" * 201}),
        (ADD_ADDRESS, {"input": {**HOME, "country": "USA"}}),
        # Two capital letters, but no country: ISO 3166-1 reserves ZZ for private use.
        (ADD_ADDRESS, {"input": {**HOME, "country": "ZZ"}}),
        (ADD_ADDRESS, {"input": {**HOME, "city": ""}}),
        ('mutation { removeAddress(id: "nope") { id } }', {}),
    ]
    for query, variables in cases:
        assert error_codes(await users(query, variables, token=ada)) == ["BAD_USER_INPUT"], (query, variables)
    assert data(await users(ME, token=ada))["me"]["addresses"] == []


async def test_me_needs_a_token(stack: Any) -> None:
    body = await stack.client("users")(ME)

    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_admin_lists_users_newest_first_and_others_cannot(stack: Any, token: Any) -> None:
    users = stack.client("users")
    for name in ["a", "b", "c"]:
        data(await users(ME, token=token(name)))
    query = "query($after: String) { users(first: 2, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }"

    first = data(await users(query, token=token("root", scopes=("users:admin",))))["users"]
    rest = data(
        await users(query, {"after": first["pageInfo"]["endCursor"]}, token=token("root", scopes=("users:admin",)))
    )["users"]
    denied = await users(query, token=token("a"))

    assert first["totalCount"] == 3
    assert [e["node"]["id"] for e in first["edges"] + rest["edges"]] == ["c", "b", "a"]
    assert error_codes(denied) == ["FORBIDDEN"]


async def test_profile_fields_are_private_to_their_owner(stack: Any, token: Any) -> None:
    users = stack.client("users")
    data(await users(ME, token=token("ada", email="ada@example.com")))
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }"
    representations = {"r": [{"__typename": "User", "id": "ada"}]}

    stranger = await users(query, representations, token=token("mallory"))
    admin = await users(query, representations, token=token("root", scopes=("users:admin",)))

    assert stranger["data"]["_entities"] == [{"id": "ada", "email": None}]
    assert error_codes(stranger) == ["FORBIDDEN"]
    assert data(admin)["_entities"] == [{"id": "ada", "email": "ada@example.com"}]
