"""The organisation tree: any depth, subtree scoping by path range, positions with history."""

import unicodedata

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.db import db, fold, folded
from lms.orgs import services
from lms.orgs.models import Officer, Organization
from tests.factories import make_org, make_tree, make_user

pytestmark = pytest.mark.usefixtures("app_ctx")


def _codes(root: Organization) -> set[str]:
    return set(
        db.session.scalars(sa.select(Organization.code).where(services.subtree_clause(root)))
    )


def test_paths_record_the_chain_from_the_root() -> None:
    tree = make_tree()
    union = tree["a_union"]
    assert union.path == f"/{tree['province'].id}/{tree['a'].id}/{union.id}/"
    assert union.depth == 2
    assert [o.code for o in services.ancestors(union)] == ["P", "A"]
    assert [o.code for o in services.ancestors(union, within=tree["a"])] == ["A"]


def test_subtree_holds_exactly_the_descendants() -> None:
    tree = make_tree()
    assert _codes(tree["a"]) == {"A", "A-1", "A-2"}
    assert _codes(tree["province"]) == {"P", "A", "B", "A-1", "A-2", "B-1"}


def test_ids_sharing_a_prefix_do_not_leak_into_each_other() -> None:
    """Node 1's range must not take node 10, 11... (the '/1/' vs '/10/' trap)."""
    root = make_org("ROOT", kind="province")
    made = [make_org(f"N{i}", parent=root) for i in range(12)]
    first = made[0]
    leaf = make_org("LEAF", kind="grassroots", parent=first, sector="state", members=5)
    assert _codes(first) == {first.code, leaf.code}
    for other in made[1:]:
        assert leaf.code not in _codes(other)


def test_a_deep_tree_of_any_depth() -> None:
    node = make_org("L0", kind="confederation")
    chain = [node]
    for depth in range(1, 15):
        node = make_org(
            f"L{depth}", kind="zone_union" if depth % 2 else "sector_union", parent=node
        )
        chain.append(node)
    leaf = make_org("LEAF", kind="grassroots", parent=node, sector="non_state", members=1000)
    assert leaf.depth == 15
    assert [o.code for o in services.ancestors(leaf)] == [o.code for o in chain]
    assert _codes(chain[10]) == {f"L{d}" for d in range(10, 15)} | {"LEAF"}


def test_counts_under_each_child_in_two_queries() -> None:
    tree = make_tree()
    make_user(org=tree["a_union"], position="chair")
    rows, total = services.list_children(tree["province"])
    assert total == 2
    counts = {row.org.code: (row.grassroots, row.chairs) for row in rows}
    assert counts == {"A": (2, 1), "B": (1, 0)}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"code": "có dấu", "name": "X", "kind": "district"}, "invalid_code"),
        ({"code": "X1", "name": " ", "kind": "district"}, "missing_name"),
        ({"code": "X1", "name": "X", "kind": "Huyện"}, "invalid_kind"),
        ({"code": "X1", "name": "X", "kind": "grassroots"}, "grassroots_needs_sector"),
        ({"code": "X1", "name": "X", "kind": "grassroots", "sector": "private"}, "invalid_sector"),
        ({"code": "X1", "name": "X", "kind": "district", "sector": "state"}, "not_grassroots"),
        (
            {
                "code": "X1",
                "name": "X",
                "kind": "grassroots",
                "sector": "state",
                "member_count": -1,
            },
            "invalid_member_count",
        ),
    ],
)
def test_invalid_units_are_refused(kwargs: dict, code: str) -> None:
    with pytest.raises(services.OrgError) as err:
        services.create_org(**kwargs)
    assert err.value.code == code
    assert services.get_org_by_code("X1") is None


def test_no_unit_under_a_grassroots_union_and_codes_are_unique() -> None:
    tree = make_tree()
    with pytest.raises(services.OrgError, match="parent_is_grassroots"):
        make_org("SUB", parent=tree["a_union"])
    with pytest.raises(services.OrgError, match="code_taken"):
        make_org("A", kind="district", parent=tree["province"])


def test_names_are_stored_composed() -> None:
    org = make_org("NFC", kind="district", name="LĐLĐ huye\u0302\u0323n Ta\u0302y Ninh")
    assert org.name == "LĐLĐ huyện Tây Ninh"


def test_one_current_chair_per_union_and_history_is_kept() -> None:
    tree = make_tree()
    first = make_user(org=tree["a_union"], position="chair")
    second = make_user(org=tree["a_union"])
    with pytest.raises(services.OrgError, match="chair_taken"):
        services.appoint(second, tree["a_union"], "chair")
    old = db.session.scalars(sa.select(Officer).where(Officer.user_id == first.id)).one()
    services.end_position(old)
    services.appoint(second, tree["a_union"], "chair")
    db.session.flush()
    rows = db.session.scalars(sa.select(Officer).where(Officer.org_id == tree["a_union"].id)).all()
    assert len(rows) == 2 and sum(r.ended_on is None for r in rows) == 1
    assert [o.user_id for o in services.current_officers(tree["a_union"])] == [second.id]


def test_the_database_itself_refuses_a_second_current_chair() -> None:
    tree = make_tree()
    a, b = make_user(org=tree["b_union"]), make_user(org=tree["b_union"])
    db.session.add(Officer(user_id=a.id, org_id=tree["b_union"].id, position="chair"))
    db.session.flush()
    db.session.add(Officer(user_id=b.id, org_id=tree["b_union"].id, position="chair"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


class TestScope:
    def test_staff_see_only_their_subtree(self) -> None:
        tree = make_tree()
        staff_a = make_user(role=Role.STAFF, org=tree["a"])
        assert services.get_org_in_scope(staff_a, "A-1") is not None
        assert services.get_org_in_scope(staff_a, "B-1") is None
        assert services.get_org_in_scope(staff_a, "P") is None
        assert services.in_scope(staff_a, tree["a_state"]) and not services.in_scope(
            staff_a, tree["b"]
        )

    def test_admin_sees_everything_and_learners_nothing(self) -> None:
        tree = make_tree()
        admin = make_user(role=Role.ADMIN)
        learner = make_user(org=tree["a_union"], position="chair")
        assert services.get_org_in_scope(admin, "B-1") is not None
        assert services.get_org_in_scope(learner, "A-1") is None
        with pytest.raises(PermissionError):
            services.scope_root(learner)

    def test_people_lists_are_scoped(self) -> None:
        tree = make_tree()
        staff_a = make_user(role=Role.STAFF, org=tree["a"])
        in_a = make_user(org=tree["a_union"], position="chair", full_name="Người A")
        in_b = make_user(org=tree["b_union"], position="chair", full_name="Người B")
        seen = set(db.session.scalars(services.people_query(staff_a)))
        assert in_a in seen and in_b not in seen
        assert services.get_person_in_scope(staff_a, in_b.id) is None

    @pytest.mark.parametrize("search", ["%", "_", "\\", "' OR 1=1--"])
    def test_search_wildcards_are_literal(self, search: str) -> None:
        tree = make_tree()
        admin = make_user(role=Role.ADMIN)
        make_user(org=tree["a_union"], full_name="Trần Văn Phúc")
        assert list(db.session.scalars(services.people_query(admin, search))) == []

    def test_search_finds_composed_and_decomposed_names(self) -> None:
        tree = make_tree()
        admin = make_user(role=Role.ADMIN)
        person = make_user(org=tree["a_union"], full_name="Trần Văn Phúc")
        assert person in list(db.session.scalars(services.people_query(admin, "Phu\u0301c")))

    @pytest.mark.parametrize(
        "search",
        ["tran van phuc", "TRẦN VĂN PHÚC", "van phuc", "Phúc", "ĐẶNG THỊ ƯỚC", "dang thi uoc"],
    )
    def test_search_ignores_marks_and_case_in_names(self, search: str) -> None:
        tree = make_tree()
        admin = make_user(role=Role.ADMIN)
        phuc = make_user(org=tree["a_union"], full_name="Trần Văn Phúc")
        uoc = make_user(org=tree["a_union"], full_name="Đặng Thị Ước")
        make_user(org=tree["a_union"], full_name="Trần Văn Phước")
        found = list(db.session.scalars(services.people_query(admin, search)))
        assert found == ([uoc] if "uoc" in fold(search) else [phuc])

    def test_the_folded_name_in_the_database_equals_the_python_fold(self) -> None:
        # Every Vietnamese letter, both cases: PostgreSQL's translate() must agree with fold().
        letters = "aăâeêioôơuưyđ"
        marks = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
        words = [
            unicodedata.normalize("NFC", letter + mark)
            for letter in letters + letters.upper()
            for mark in marks
        ]
        text = " ".join(words)
        assert db.session.scalar(sa.select(folded(sa.literal(text)))) == fold(text)
        assert db.session.scalar(sa.select(folded(sa.null()))) is None


def test_staff_account_needs_a_unit_and_positions_need_a_union() -> None:
    make_tree()
    with pytest.raises(services.OrgError, match="staff_needs_org"):
        services.create_person(actor=None, full_name="Cán bộ", role="staff", username="canbo1")
    with pytest.raises(services.OrgError, match="position_needs_grassroots"):
        services.create_person(
            actor=None, full_name="X", username="xxx1", org_code="A", position="chair"
        )


def test_summary_of_a_scope() -> None:
    tree = make_tree()
    make_user(org=tree["a_union"], position="chair")
    make_user(org=tree["a_union"], position="vice_chair")
    summary = services.summarise(tree["a"])
    assert (summary.grassroots, summary.non_state, summary.large) == (2, 1, 1)
    assert (summary.chairs, summary.vacancies, summary.people) == (1, 1, 2)
