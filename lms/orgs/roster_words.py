"""The vocabulary of roster files: column headers and their aliases, sector and position words.

Everything is compared loosely (unaccented, lowercase, punctuation as spaces: see
lms.orgs.roster.key), so "Mã đơn vị", "MA DON VI" and "ma_don_vi" are the same header. The
README's "Roster files" section documents these tables; keep the two in step.
"""

from lms.orgs.models import Position, Sector

FIELDS = (
    "ma_don_vi", "ten_don_vi", "ma_cap_tren", "khu_vuc", "so_doan_vien",
    "ho_ten", "chuc_vu", "dien_thoai", "email",
)  # fmt: skip

# Headers compare unaccented, lowercase, punctuation as spaces ("Mã đơn vị" = "ma don vi").
HEADER_ALIASES = {
    "ma_don_vi": (
        "ma don vi", "ma cdcs", "ma cong doan", "ma cong doan co so", "unit code", "code",
    ),
    "ten_don_vi": (
        "ten don vi", "ten cdcs", "ten cong doan", "ten cong doan co so", "don vi", "unit name",
        "unit",
    ),
    "ma_cap_tren": (
        "ma cap tren", "ma don vi cap tren", "cap tren", "don vi cap tren", "parent code", "parent",
    ),
    "khu_vuc": ("khu vuc", "khu vuc kinh te", "loai hinh", "sector"),
    "so_doan_vien": (
        "so doan vien", "so luong doan vien", "tong so doan vien", "doan vien", "members",
        "member count",
    ),
    "ho_ten": ("ho ten", "ho va ten", "ten can bo", "full name", "name"),
    "chuc_vu": ("chuc vu", "chuc danh", "position"),
    "dien_thoai": (
        "dien thoai", "so dien thoai", "sdt", "so dt", "dt", "di dong", "phone", "mobile",
    ),
    "email": ("email", "e mail", "thu dien tu"),
}  # fmt: skip

SECTOR_WORDS = {
    Sector.NON_STATE: (
        "ngoai nha nuoc", "ngoai khu vuc nha nuoc", "khu vuc ngoai nha nuoc", "ngoai quoc doanh",
        "doanh nghiep tu nhan", "tu nhan", "dntn", "fdi", "doanh nghiep fdi",
        "co von dau tu nuoc ngoai", "doanh nghiep co von dau tu nuoc ngoai", "hop tac xa",
        "non state", "private",
    ),
    Sector.STATE: (
        "nha nuoc", "khu vuc nha nuoc", "co quan", "co quan nha nuoc", "don vi su nghiep",
        "don vi su nghiep cong lap", "hanh chinh su nghiep", "hcsn", "doanh nghiep nha nuoc",
        "state",
    ),
}  # fmt: skip

POSITION_WORDS = {
    Position.CHAIR: (
        "chu tich", "chu tich cdcs", "chu tich cong doan", "chu tich cong doan co so", "ct",
        "chair", "chairperson", "chairman",
    ),
    Position.VICE_CHAIR: (
        "pho chu tich", "pho chu tich cdcs", "pho chu tich cong doan",
        "pho chu tich cong doan co so", "pct", "vice chair", "vice chairperson",
    ),
    Position.GROUP_LEADER: (
        "to truong cong doan", "to truong cd", "to truong", "group leader", "union group leader",
    ),
    Position.COLLABORATOR: ("cong tac vien", "ctv", "collaborator"),
    Position.CORE_MEMBER: ("doan vien nong cot", "dv nong cot", "nong cot", "core member"),
}  # fmt: skip
