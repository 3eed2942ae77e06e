"""Where every data file comes from, pinned: the catalog `repro data fetch` works from.

Each (dataset, split) has one or more `Option`s, in the order the loaders prefer them. An option is a
set of items that together make the split loadable:

* `File`: an original release file, placed at `path` (relative to the data directory, the layout of
  shared/data/ and its MANIFEST.md) and fetched from a public git repository at a pinned commit
  (``raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>``). It is checked against its sha256
  (the MANIFEST's), or, for the few files the offline copy lacks (>= 4 MiB there), against its git
  blob id at that commit (the repository's own content hash: sha1 of ``"blob <size>\\0" + bytes``).
  A `File` with an `Archive` is a member of a .tar.gz in that repository.
* `HubSplit`: only where no original file is published (SuperGLUE's BoolQ train, MultiRC, ReCoRD and
  WSC; the XSUM article texts; DART train as a fallback), one split of one config of a Hugging Face
  dataset as the hub serves it in parquet (branch ``refs/convert/parquet``: files
  ``<config>/<split>/NNNN.parquet``), placed under `path` with a ``MANIFEST.json`` naming the commit
  the branch pointed at, each file's sha256 (the hub's LFS hash) and its row count (checked against
  `rows`, the split sizes the hub's dataset cards state).

`examples` is the number of examples `repro.data.load` returns once an option is in place (checked
after every fetch); None where it is not known in advance. Nothing here imports the network stack.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


#: where raw files of a repository at a commit are served (a module constant, so tests can point it at a
#: local ``file://`` copy laid out the same way: <owner>/<name>/<commit>/<path>)
RAW_BASE = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class Repo:
    """A public GitHub repository at a pinned commit."""

    name: str
    commit: str

    def url(self, path: str) -> str:
        return f"{RAW_BASE}/{self.name}/{self.commit}/{quote(path)}"


@dataclass(frozen=True)
class Remote:
    repo: Repo
    path: str

    @property
    def url(self) -> str:
        return self.repo.url(self.path)

    def __str__(self) -> str:
        return f"{self.repo.name}:{self.path}@{self.repo.commit[:10]}"


@dataclass(frozen=True)
class Archive:
    """A .tar.gz in a repository, kept under ``.fetch/archives/`` of the data directory."""

    remote: Remote
    size: int
    sha256: str

    @property
    def cache_name(self) -> str:
        return f"{self.remote.repo.name.replace('/', '+')}+{self.remote.path.rsplit('/', 1)[-1]}"


@dataclass(frozen=True)
class File:
    path: str
    remotes: tuple[Remote, ...]
    size: int | None = None
    sha256: str | None = None
    git_blob: str | None = None
    archive: Archive | None = None
    member: str | None = None  # the archive member this file is

    def __post_init__(self):
        if not (self.sha256 or self.git_blob):
            raise ValueError(f"{self.path}: a File needs a sha256 or a git blob id")


@dataclass(frozen=True)
class HubSplit:
    repo: str          # namespace/name: the hub refuses bare ids
    revision: str      # a named revision; the commit it resolves to is recorded in MANIFEST.json
    config: str
    split: str         # the hub's split name (train / validation / test)
    path: str          # local folder, relative to the data directory
    rows: int | None   # rows of the split (the hub's dataset card), None if not known

    def __post_init__(self):
        if "/" not in self.repo:
            raise ValueError(f"hub dataset id {self.repo!r} has no namespace (namespace/name)")


Item = File | HubSplit


@dataclass(frozen=True)
class Option:
    label: str
    items: tuple[Item, ...]
    examples: int | None = None


# ---------------------------------------------------------------------------------------------
# Repositories and commits (the commits of shared/data/MANIFEST.md)

PT = Repo("XiangLi1999/PrefixTuning", "6519d30e69b15a180f23e2cd41b766d3f62b8e82")
E2E = Repo("tuetschek/e2e-dataset", "ab0d967dd5729ce455ef14ba9ffafc456a335264")
HARVARD = Repo("harvardnlp/neural-template-gen", "dff72ca246e80fd0eef2ca0b8b1fbf21fe927df4")
DART = Repo("Yale-LILY/dart", "bb644b12ec1d0264f96a31145534b9a94f6ff5f5")
DART_2020 = Repo("Yale-LILY/dart", "b5dfcab18b30b5de6986d89bb77952e83df7d48a")  # v1.1.1 as first released
XSUM = Repo("EdinburghNLP/XSum", "7b95485c3e861d7caff76a8b4c6b3fd3bf7ee9b1")
LORA = Repo("microsoft/LoRA", "c4593f060e6a368d7bb5af5273b8e42810cdef90")
PTUNING = Repo("THUDM/P-tuning", "f4225d4d8003868b31ed659dfe9732a351ad42d9")
LCEUSTC = Repo("lceustc/superglue", "bfea45cae00b8030b3b9523e298cc3920cc94bbe")
FEWGLUE = Repo("timoschick/fewglue", "f52d9515de38cad663869c9e25b79107cda1d345")

ARCHIVES = {
    "data/e2e_aligned.tar.gz": Archive(Remote(HARVARD, "data/e2e_aligned.tar.gz"), 1911866,
                                       "078ce181b625464a0a26212b9694bb1e6b1b4a12bd00e9520d5fa8b6a3ce2736"),
    "xsum-human-evaluation-data.tar.gz": Archive(Remote(XSUM, "xsum-human-evaluation-data.tar.gz"), 58742,
                                                 "b3a8b03ca539e9bd844bab246b684142668446225803f9ddd3ad86c044a4ce12"),
}

# (local path, repository, path in the repository (None: "data/" + local path), size, sha256), from
# shared/data/MANIFEST.md; "archive!member" paths are members of a .tar.gz in that repository
_MANIFEST_FILES = (
    ("e2e/original/devset.csv", E2E, "devset.csv", 1161305, "fc26b78cdb849c80545f513b223d1e051138b43882eeb79e3eb153e689c864f9"),
    ("e2e/original/testset_w_refs.csv", E2E, "testset_w_refs.csv", 1310822, "edc8db685e39bb9824d5bd70c18b1c9b0412d14b527aa960e2d1c8251ee15ccd"),
    ("e2e/harvardnlp_aligned/src_train.txt", HARVARD, "data/e2e_aligned.tar.gz!e2e_aligned/src_train.txt", 10086459, "a8dd7a0e63184bbef5efd70a80f9bcd503785ffd484f9884b4f16923c7d138d2"),
    ("e2e/harvardnlp_aligned/train.txt", HARVARD, "data/e2e_aligned.tar.gz!e2e_aligned/train.txt", 7194250, "01c6e3fb542814164bc98cc2cbdd1aef8d6db676fe2a2f0145e5c2a3476ccd5d"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_Airport_dev_challenge.xml", PT, None, 21414, "93dd0a98791c9df1e5d53289840ec73c86e751cd892b5ebbd0070bb2b13bac99"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_Astronaut_dev_challenge.xml", PT, None, 5545, "520e3df154d02a585c9b16fcec1e2a983fa5a13ab52c12cc64b43ce808c05e8e"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_Building_dev_challenge.xml", PT, None, 15926, "ed15a33716191fe5a24f6b366292e50e4444e1f80b1cee3e99834b7561c81b8b"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_City_dev_challenge.xml", PT, None, 17213, "e31d134b3a45140cc61093be0d17249e6b6ca356e50b81a2f48352536ecb2dac"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_ComicsCharacter_dev_challenge.xml", PT, None, 7651, "984cfc0c4862e9ffd9c35a9402c24a17545754da95a09c0a23b1f0c5552e24e9"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_Food_dev_challenge.xml", PT, None, 17001, "7a8763f6a385ae219c7ec14db5062a2b2ec43d26c87639fe86731f9417001eb4"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_Monument_dev_challenge.xml", PT, None, 4731, "34168eb7e81478374f35e520680f91d1cce87268aa96b2f88ef2a094b1b6e371"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_SportsTeam_dev_challenge.xml", PT, None, 17125, "2febc7f2b1c68e15fcdabd2217e8e2d3af2a176599054a19134052abdcc9c17f"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_University_dev_challenge.xml", PT, None, 5543, "3babb23a13ed46443d06564e12579ce6a9165af6ca370c6cb48c2c03b55714c9"),
    ("webnlg_challenge_2017/dev/1triples/1triple_allSolutions_WrittenWork_dev_challenge.xml", PT, None, 16709, "5b8b1720cb95d767bdef1cc7d274406dbc16dc3e5aeafdd74e7d5fb51c08cb92"),
    ("webnlg_challenge_2017/dev/2triples/2triples_Airport_dev_challenge.xml", PT, None, 23193, "f3031d4cf868fe7bbeeabe627c5ceed9289f70dd11bb34c19c8b70ef10a4695a"),
    ("webnlg_challenge_2017/dev/2triples/2triples_Astronaut_dev_challenge.xml", PT, None, 4668, "6ebd2f0875c22209e51f25f6a4895bf375514d8abbc1c218b0dcdad9e7487352"),
    ("webnlg_challenge_2017/dev/2triples/2triples_Building_dev_challenge.xml", PT, None, 19934, "2f38b2a8bc86635504c97cb137a01842e25d249f12171ce28137929c5e303711"),
    ("webnlg_challenge_2017/dev/2triples/2triples_ComicsCharacter_dev_challenge.xml", PT, None, 8537, "64b1b9d8cd805b5ae50ba879519be85471b1f32860184abcf9fdada455ab39ac"),
    ("webnlg_challenge_2017/dev/2triples/2triples_Food_dev_challenge.xml", PT, None, 27171, "008e8184db0b4798353bc6394e2a61757bd4068c134966fc380321ebe14f3e55"),
    ("webnlg_challenge_2017/dev/2triples/2triples_Monument_dev_challenge.xml", PT, None, 3648, "4ae6e1114fe0d15e85d9114bc677bf05bcea9b76000cc2831bb291373983fade"),
    ("webnlg_challenge_2017/dev/2triples/2triples_SportsTeam_dev_challenge.xml", PT, None, 19104, "60f6f4fdfda7b4594051e7a8e2cfef3a89bc72d0a81f20acacedc74adcd9a92b"),
    ("webnlg_challenge_2017/dev/2triples/2triples_University_dev_challenge.xml", PT, None, 5772, "5404aea185e3649536a7d39773ba66540598089772cbf53ce56769518cb54bfd"),
    ("webnlg_challenge_2017/dev/2triples/2triples_WrittenWork_dev_challenge.xml", PT, None, 24418, "66b1d1b60152a40cab369ae2a6120954779ce06369a81fc8e5c4ede6ec9543e2"),
    ("webnlg_challenge_2017/dev/3triples/3triples_Airport_dev_challenge.xml", PT, None, 31679, "00430e5312b17da56447f69deb3534c24c2161b50e48de7966b5b0c1fb10d315"),
    ("webnlg_challenge_2017/dev/3triples/3triples_Astronaut_dev_challenge.xml", PT, None, 8392, "e78277b73024add17526aed538d675b7ef4d80a77f339db3ba51d248c14766cc"),
    ("webnlg_challenge_2017/dev/3triples/3triples_Building_dev_challenge.xml", PT, None, 31455, "b36251a66dae3f562fe9e695073d65738094a63693a097e160ed3a11a51fd0a2"),
    ("webnlg_challenge_2017/dev/3triples/3triples_ComicsCharacter_dev_challenge.xml", PT, None, 8815, "b54cb6dc47163810c759c081e226c58c2b2ef54505f64871653c929cfb5a26c6"),
    ("webnlg_challenge_2017/dev/3triples/3triples_Food_dev_challenge.xml", PT, None, 39523, "1b2f4e4d8949c0d7762976c4b8ee676469999fa268c9f70055341ea7b114897c"),
    ("webnlg_challenge_2017/dev/3triples/3triples_Monument_dev_challenge.xml", PT, None, 5698, "e7198a1b7e8084555ae85489f6473e54830656f33fbd9ef1b7927331e6a6fa5c"),
    ("webnlg_challenge_2017/dev/3triples/3triples_SportsTeam_dev_challenge.xml", PT, None, 26287, "5f93f50c984911649a0b7ff2e85a1c22bfbf924c4a86f94716f31f85e74bb51f"),
    ("webnlg_challenge_2017/dev/3triples/3triples_University_dev_challenge.xml", PT, None, 9569, "5ffaad721ccd9a7d26cbaaf5ff4d8e72fd4f38a86da20ad7125bc16dada196b1"),
    ("webnlg_challenge_2017/dev/3triples/3triples_WrittenWork_dev_challenge.xml", PT, None, 39193, "49041cfa8a9ad15eff489cb968e522a3647beda7794230c490b46a3964b77ce7"),
    ("webnlg_challenge_2017/dev/4triples/4triples_Airport_dev_challenge.xml", PT, None, 40774, "e17291f5d47a1254215afa852d4b0a2896b4ab4d1cf304ac56ee61e12d36f218"),
    ("webnlg_challenge_2017/dev/4triples/4triples_Astronaut_dev_challenge.xml", PT, None, 11497, "95be9ffdc2a70eb0dfa4be2381551e6d8a4280ab4da13113d4916002e5545d3c"),
    ("webnlg_challenge_2017/dev/4triples/4triples_Building_dev_challenge.xml", PT, None, 36262, "ba1eaeef5b41d85543b68e71da80a152a04cf9d8383bedc61926168ff0bec3c3"),
    ("webnlg_challenge_2017/dev/4triples/4triples_ComicsCharacter_dev_challenge.xml", PT, None, 6873, "68563766d8044eb4cc7aeab14444b347fb7bbd73bb01e7b3c4b1c5c70ccc8829"),
    ("webnlg_challenge_2017/dev/4triples/4triples_Food_dev_challenge.xml", PT, None, 58234, "7b0be66dccbed8cc1f4ab2b43d299653278988f5969681920c69ae15a88bf646"),
    ("webnlg_challenge_2017/dev/4triples/4triples_Monument_dev_challenge.xml", PT, None, 9759, "65fc7b3ba50d35a1a6b62a0afc58b3d29283a550fa64ec36913d5ed2a3c4258f"),
    ("webnlg_challenge_2017/dev/4triples/4triples_SportsTeam_dev_challenge.xml", PT, None, 25228, "7cc6115ebfb378bd7b8440f0ea22021c18217d5339d4981936bca15b09706351"),
    ("webnlg_challenge_2017/dev/4triples/4triples_University_dev_challenge.xml", PT, None, 14435, "311403ad989530134d2e719a9fcdbf1dd641b2a61f869cd495a0a52d4a8a793f"),
    ("webnlg_challenge_2017/dev/4triples/4triples_WrittenWork_dev_challenge.xml", PT, None, 30493, "02b7fa944571729ce232ed80c4e7dee1bc8a5837a707e8b93d936e3788421b21"),
    ("webnlg_challenge_2017/dev/5triples/5triples_Airport_dev_challenge.xml", PT, None, 52231, "b49c4a927e40b2f18d3caf4e16713d5f557e7fc528bbcfd080a20cc3123e18df"),
    ("webnlg_challenge_2017/dev/5triples/5triples_Astronaut_dev_challenge.xml", PT, None, 16676, "347ab9ad1d0620f26c1050644d76f9c1c2057fbea0eddc54e3587470b0f80784"),
    ("webnlg_challenge_2017/dev/5triples/5triples_Building_dev_challenge.xml", PT, None, 32710, "8f32c963c83e3aa5d170c8bbf48b54b3bc91d4fb071b6c7954d4af516e2dee44"),
    ("webnlg_challenge_2017/dev/5triples/5triples_ComicsCharacter_dev_challenge.xml", PT, None, 3291, "c2a5c96467944649878051e32b00abc759bf6c97ce2eea8dfebecb74160200ff"),
    ("webnlg_challenge_2017/dev/5triples/5triples_Food_dev_challenge.xml", PT, None, 41303, "5fdcfadb78d061023abe94d61677f39d1eeb845208fa42e5c5862470dfa29483"),
    ("webnlg_challenge_2017/dev/5triples/5triples_Monument_dev_challenge.xml", PT, None, 10574, "60d1b0719a64f21f961a1f2fe52d9b6083f9f717d6b0f24546f9f90d0f358af2"),
    ("webnlg_challenge_2017/dev/5triples/5triples_SportsTeam_dev_challenge.xml", PT, None, 9871, "66bf78fab04c629e397f3dcb869cbb82147d08eb600e0e16277db164e3c4c8de"),
    ("webnlg_challenge_2017/dev/5triples/5triples_University_dev_challenge.xml", PT, None, 14312, "a43f2eb627e363ff8fb3578b6aeec90b162844f27ebf66f376ae1c7097e8532c"),
    ("webnlg_challenge_2017/dev/5triples/5triples_WrittenWork_dev_challenge.xml", PT, None, 19758, "9794ef205ef91718b487177cb8eaabc870e32ff4d6d195d010c7c90b36f17dc9"),
    ("webnlg_challenge_2017/dev/6triples/6triples_Astronaut_dev_challenge.xml", PT, None, 18390, "5c6304c4e663c9004d07d2cb6048da388c92f9dc873c9759b626d1159a5bdc04"),
    ("webnlg_challenge_2017/dev/6triples/6triples_Monument_dev_challenge.xml", PT, None, 9235, "574e58cfbd6e72f3d0f14e92253b44a724b466e9553208392c773ae734269f0b"),
    ("webnlg_challenge_2017/dev/6triples/6triples_University_dev_challenge.xml", PT, None, 19805, "775690fa97aa672694252da917bff50f39447b415c61dd7a953df43b4690419d"),
    ("webnlg_challenge_2017/dev/7triples/7triples_Astronaut_dev_challenge.xml", PT, None, 21125, "bab7560ca964cc5b7e20b2a2e33822fcc6ea372d2e9e036bec63ea177c10f4d7"),
    ("webnlg_challenge_2017/dev/7triples/7triples_Monument_dev_challenge.xml", PT, None, 6958, "4de385ac768c71ee86f0148c304fa0c2bd94b9f77d30aaf3601f719f4441ecf5"),
    ("webnlg_challenge_2017/dev/7triples/7triples_University_dev_challenge.xml", PT, None, 18746, "f62020ba398dfbef68a74d470dc79f8fb6d27a675ae31a089e1e782f5ec6162f"),
    ("webnlg_challenge_2017/test/testdata_with_lex.xml", PT, None, 2129537, "43287905cbfe47697232d569ea6ff072d598282da2ea022bc435ca26b943cd93"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_Airport_train_challenge.xml", PT, None, 179592, "7a7ae89429f6b39de4a91709b7682d622bb3596f2026158f3e1726f16e5e1b8a"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_Astronaut_train_challenge.xml", PT, None, 48443, "4f256da55c70a3b50bd006f5c384b13ce75a914b7e1e8c19a607e8ebada309a2"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_Building_train_challenge.xml", PT, None, 131777, "88f6ebd60157abfeafc62a0396068ebe3eae7bf2f0dcbfa2107138eb90e1ce9f"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_City_train_challenge.xml", PT, None, 144300, "13adb0d860390f4866fdb5c1018532c51cf50ec123267b8e685b135afe2b86d4"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_ComicsCharacter_train_challenge.xml", PT, None, 58484, "d5c1964b0a55c9443068516d7f4058e86a3d069b1570f679f7c4fe178480c769"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_Food_train_challenge.xml", PT, None, 146214, "a64a70aa72bc2bacb28b61683a687f7345bc46a6aa6396bb6759730340123de9"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_Monument_train_challenge.xml", PT, None, 29562, "6988cb5f17c74abf6902cbca1ffd92594c252a9b685876ba461f68796d4c945b"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_SportsTeam_train_challenge.xml", PT, None, 136818, "b548204ba4f2f4dd185771d7b0721046cbaaf25c7adf346b627b100c3a10b954"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_University_train_challenge.xml", PT, None, 40643, "cffd2208345ca3367426fdafed3897d796254499a00ad2b977818ed15b407f79"),
    ("webnlg_challenge_2017/train/1triples/1triple_allSolutions_WrittenWork_train_challenge.xml", PT, None, 127010, "cb4102c666cbf99221ba1e03ef159e94c10107669fb28039ab43358e0b557664"),
    ("webnlg_challenge_2017/train/2triples/2triples_Airport_train_challenge.xml", PT, None, 189478, "a739392a1a316647adda0ba914ffa7a2e01f9369e545681493fc58604b8d9f08"),
    ("webnlg_challenge_2017/train/2triples/2triples_Astronaut_train_challenge.xml", PT, None, 43611, "c46d963888b96162737eef599cb509ec61ae7ac0b7576b50bb4a773c629a4f6c"),
    ("webnlg_challenge_2017/train/2triples/2triples_Building_train_challenge.xml", PT, None, 160003, "29e2c3693ea085a0626689e5b216db97d22287e5c868232c3b7b73400e795b2a"),
    ("webnlg_challenge_2017/train/2triples/2triples_ComicsCharacter_train_challenge.xml", PT, None, 70070, "504cd7686eed924c20886a1406d58c93cceed916c69eb110f32bd402445922a1"),
    ("webnlg_challenge_2017/train/2triples/2triples_Food_train_challenge.xml", PT, None, 219973, "d167bd310b4c590f2fb89f5a3c060697417f96e55e48405bd373d82a0c2b53bf"),
    ("webnlg_challenge_2017/train/2triples/2triples_Monument_train_challenge.xml", PT, None, 32332, "c72ce492b6175acee6323a561e462cc1728c5f4aa857c6d1613b113098fa842f"),
    ("webnlg_challenge_2017/train/2triples/2triples_SportsTeam_train_challenge.xml", PT, None, 152212, "ad40cfe2b743b9553b72583bb080aa05d070f11e41229ac63586f6adfe08c2e4"),
    ("webnlg_challenge_2017/train/2triples/2triples_University_train_challenge.xml", PT, None, 37188, "8636876bf0867d82c467d4156dc633947e93d4c4b7b0a11ac5a10f5e900b4c43"),
    ("webnlg_challenge_2017/train/2triples/2triples_WrittenWork_train_challenge.xml", PT, None, 191317, "e33a3300735c0d5380a9ac30997ce918f2cda566974ba6ad2e9c69199fc495fe"),
    ("webnlg_challenge_2017/train/3triples/3triples_Airport_train_challenge.xml", PT, None, 253351, "a159f60f29160d2a4639cd47a172c0fb279b437bf8927598d35fb10a8132fc94"),
    ("webnlg_challenge_2017/train/3triples/3triples_Astronaut_train_challenge.xml", PT, None, 67402, "6c1259cbc54d28ee728ccb6ed11fb6209bef42875de4a1b7936832585e5cb5ae"),
    ("webnlg_challenge_2017/train/3triples/3triples_Building_train_challenge.xml", PT, None, 243623, "f7365d94733f5c17488ba7f4d4ff81b603dc2abcf7d6a61e670e30998e19a30c"),
    ("webnlg_challenge_2017/train/3triples/3triples_ComicsCharacter_train_challenge.xml", PT, None, 73546, "63d3b880e723f3a60c8d9523fbed1dd8baea87a05716fd0274d4c50dac35f0aa"),
    ("webnlg_challenge_2017/train/3triples/3triples_Food_train_challenge.xml", PT, None, 320351, "d8845a3db25eca48502da20f828819d6dce20a2e6c6ca1fe390ea439c27145ac"),
    ("webnlg_challenge_2017/train/3triples/3triples_Monument_train_challenge.xml", PT, None, 48842, "adadc1c4c592fd27fc78393d851729a5aca55b3db2b2390afe8485caa49a6f2f"),
    ("webnlg_challenge_2017/train/3triples/3triples_SportsTeam_train_challenge.xml", PT, None, 197852, "f5ff678418c661a57c22b501a1cfb6f8f5d879b2737c680a4e0d7d5ab9c107ab"),
    ("webnlg_challenge_2017/train/3triples/3triples_University_train_challenge.xml", PT, None, 69627, "b0dce6f94b1e35e9e08a7bc8738503112091fd95753cf7f0e7565361070a6363"),
    ("webnlg_challenge_2017/train/3triples/3triples_WrittenWork_train_challenge.xml", PT, None, 309227, "98baedc0f596786f9980c6eca6f04426896d8101bd81b3968d63bf46d10eee07"),
    ("webnlg_challenge_2017/train/4triples/4triples_Airport_train_challenge.xml", PT, None, 347196, "5d061dc0e38c1fc908b7857a07250bfda10658c48e8b9c18367f605f53580f12"),
    ("webnlg_challenge_2017/train/4triples/4triples_Astronaut_train_challenge.xml", PT, None, 87793, "bc51f9a0eb205c7d51615bcc71d49d9e21b8cddb492085525acd5d15fa22f4a3"),
    ("webnlg_challenge_2017/train/4triples/4triples_Building_train_challenge.xml", PT, None, 307688, "cc500953cdfe383540356056a2b5cf8460e30ee6c815f5689b33a403bb8694e8"),
    ("webnlg_challenge_2017/train/4triples/4triples_ComicsCharacter_train_challenge.xml", PT, None, 48605, "607f553f3327d52f3200bb45c532ea14295b95c7f3ee263952e8f537e040164f"),
    ("webnlg_challenge_2017/train/4triples/4triples_Food_train_challenge.xml", PT, None, 426045, "d09a516eb12f9e918b208128883a70490c9c00ae353bc93e332c3d8d13bc95a7"),
    ("webnlg_challenge_2017/train/4triples/4triples_Monument_train_challenge.xml", PT, None, 72553, "8a101fbaac7064b86c6efa953a530737d14e8381a2747f2600cd640bbd33d9cb"),
    ("webnlg_challenge_2017/train/4triples/4triples_SportsTeam_train_challenge.xml", PT, None, 203445, "c1c1870ab97402249405f3e754697d060fd9bb2fa0654d1fa06a7b50162ab4f8"),
    ("webnlg_challenge_2017/train/4triples/4triples_University_train_challenge.xml", PT, None, 111624, "32ee738e706086f147947469017c928893672bf07d5fc9165b8cfb295e0df26c"),
    ("webnlg_challenge_2017/train/4triples/4triples_WrittenWork_train_challenge.xml", PT, None, 272098, "e315ca9cab5fa17baee7290f6b5892ebd8785309891f0ddbaa9b516b2f3f0940"),
    ("webnlg_challenge_2017/train/5triples/5triples_Airport_train_challenge.xml", PT, None, 389453, "d51ebfa7f1087395016c3d71810fcc9ba46a2ec0e7d4ad2218ce82ffc06f24c4"),
    ("webnlg_challenge_2017/train/5triples/5triples_Astronaut_train_challenge.xml", PT, None, 122512, "9f7a4c0ff9b01532eb58982aec4d39c8432d8f1f301eb4b06c8cb93d988e573c"),
    ("webnlg_challenge_2017/train/5triples/5triples_Building_train_challenge.xml", PT, None, 254574, "855549851647bd6f0bbf71ae39f09e3503178725e87fbfb5b71151634dc2d815"),
    ("webnlg_challenge_2017/train/5triples/5triples_ComicsCharacter_train_challenge.xml", PT, None, 17061, "b8c0c8b07a57d11cd56eb15ff59c632391bf6a83c23f7a9510012bda9df3ec97"),
    ("webnlg_challenge_2017/train/5triples/5triples_Food_train_challenge.xml", PT, None, 341810, "3b7928c106477ab087160a8c4cc6add30b3252110440c51f856e23fdd7b8952e"),
    ("webnlg_challenge_2017/train/5triples/5triples_Monument_train_challenge.xml", PT, None, 78839, "326e5f85bc39c1e51a6e084702b8dc06b1a6e9664b11aeb174afcd253305c4cf"),
    ("webnlg_challenge_2017/train/5triples/5triples_SportsTeam_train_challenge.xml", PT, None, 71976, "5ab12a09008403ba5260314be64a0f3d7a5c4e35ee34c80e4c2b3c225c250d21"),
    ("webnlg_challenge_2017/train/5triples/5triples_University_train_challenge.xml", PT, None, 115612, "a60db97dcf6ba06b638c1b929c534a4fdf613eab0fe3cefbb73de090ccbaa423"),
    ("webnlg_challenge_2017/train/5triples/5triples_WrittenWork_train_challenge.xml", PT, None, 160479, "93e6c1ebc54e9c72af6a12c3e222cd92376cec6cbf3ee3401f8d953ff2c0729b"),
    ("webnlg_challenge_2017/train/6triples/6triples_Astronaut_train_challenge.xml", PT, None, 142751, "cd94f27fe3f279c8fca04add2d147084698c290c9cf1d5d4c31c1edc059c88b3"),
    ("webnlg_challenge_2017/train/6triples/6triples_Monument_train_challenge.xml", PT, None, 73385, "9db9aa64374bf9edd2476f640b4b86ee75889c1291f6895d9b86154e1c46a649"),
    ("webnlg_challenge_2017/train/6triples/6triples_University_train_challenge.xml", PT, None, 140917, "298ae9cde5b66c05f832b830c980b3e2b3e300e7547e1219af2e08b0b8d7812f"),
    ("webnlg_challenge_2017/train/7triples/7triples_Astronaut_train_challenge.xml", PT, None, 166563, "278ef7856ebe368829788310717b87e9885be0eb0e4522b08018dff4054e6b6d"),
    ("webnlg_challenge_2017/train/7triples/7triples_Monument_train_challenge.xml", PT, None, 61082, "6c6c45a02e3212dfeffe682d42eb1dda3d351a5161f01e6cb1f807edca02f9b6"),
    ("webnlg_challenge_2017/train/7triples/7triples_University_train_challenge.xml", PT, None, 153698, "f859a37d51c42cbb1bdbbdd176b713e2ba2a563d14fdd7bfd2fb4f393f0392c0"),
    ("dart/v1.1.1/dart-v1.1.1-full-dev.json", DART, "data/v1.1.1/dart-v1.1.1-full-dev.json", 2468789, "56606eac12baa7f0ddb81c61890f9f1a95bace4df8f8989852786358fe5d2b88"),
    ("dart/v1.1.1/dart-v1.1.1-full-test.xml", DART, "data/v1.1.1/dart-v1.1.1-full-test.xml", 3958498, "4f6994d633030278798c114555549a13202780fe0d78ee2e7ac7dcce45a8e233"),
    ("xsum/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json", XSUM, "XSum-Dataset/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json", 2720574, "9c0c5d8f048a90bd68b19a34e4c30577ed270d3247b2119fa06a04ef46292068"),
    ("xsum/human_evaluation/xsum-human-evaluation-data.txt", XSUM, "xsum-human-evaluation-data.tar.gz!xsum-human-evaluation-data.txt", 218777, "fb07ce89f6e1c6d873af88d7fdc82ae747724bc9e0886d30c0e49d25319a4616"),
    ("xsum/samples/hf_transformers_fixture_sample.json", LORA, "examples/NLU/tests/fixtures/tests_samples/xsum/sample.json", 15601, "d89fce4fd11ad02407e15352e3af9a6f90efd533275764d5039b32dc53f559a1"),
    ("superglue/BoolQ/val.jsonl", PTUNING, "FewGLUE_32dev/BoolQ/val.jsonl", 2254565, "0c86a5045886e5795fe9052003873f7d94b88ed3028a33007c51d99e44fd66d9"),
    ("superglue/fewglue_32dev/BoolQ/dev32.jsonl", PTUNING, "FewGLUE_32dev/BoolQ/dev32.jsonl", 21820, "0af324b658a72fdd7767aa3c27c1dfafbc03e8e987a148b29e42a72d84b9f9e3"),
    ("superglue/CB/val.jsonl", PTUNING, "FewGLUE_32dev/CB/val.jsonl", 24598, "c6125587e9601560cb16ea223c33964c5a915568d2af68a81f651b6ef25395ec"),
    ("superglue/fewglue_32dev/CB/dev32.jsonl", PTUNING, "FewGLUE_32dev/CB/dev32.jsonl", 11703, "ec7e1bfe37a7ea4514fc2335bfa3b35be77bfe084aae2e7ca55f765aaee41337"),
    ("superglue/COPA/val.jsonl", PTUNING, "FewGLUE_32dev/COPA/val.jsonl", 18169, "fa61467cc251010178ed72f8ca82a0fceefc4ca9a85f87ec3b6102955e1a1f1a"),
    ("superglue/fewglue_32dev/COPA/dev32.jsonl", PTUNING, "FewGLUE_32dev/COPA/dev32.jsonl", 5874, "eb43b015d061738467f284c60049ef0afcaf707ec8e528ab3c5c4285a5f5618a"),
    ("superglue/RTE/val.jsonl", PTUNING, "FewGLUE_32dev/RTE/val.jsonl", 104895, "ab990507bf5f35dc176cba7770a72bfa2c50a88ed72b8cc95cfbf9db95ab1af1"),
    ("superglue/fewglue_32dev/RTE/dev32.jsonl", PTUNING, "FewGLUE_32dev/RTE/dev32.jsonl", 14751, "a3ba6200d2f27691d927ab97d387292b045316956f877fbfccc9a4658af2b351"),
    ("superglue/WiC/val.jsonl", PTUNING, "FewGLUE_32dev/WiC/val.jsonl", 146302, "9f7207c88beba42cbc139de4c62ce05b23bffc189b3d561594b160e0c3920c0b"),
    ("superglue/fewglue_32dev/WiC/dev32.jsonl", PTUNING, "FewGLUE_32dev/WiC/dev32.jsonl", 7328, "3df4ca565f109be9476caa51884ba13c5f2a33c939898cf80bb53e09fdc73062"),
    ("superglue/CB/train.jsonl", LCEUSTC, "pytorch-transformers/data/CB/train.jsonl", 99499, "32017480d3a10508646e3efd64502c639f13d4d15077f278d2fd0992c33a3126"),
    ("superglue/COPA/train.jsonl", LCEUSTC, "pytorch-transformers/data/COPA/train.jsonl", 72323, "e74ed25f36119fff954d90900ebbaae277e2cc4864be4b961e7a46c8f67d11a9"),
    ("superglue/RTE/train.jsonl", LCEUSTC, "pytorch-transformers/data/RTE/train.jsonl", 977550, "fdfb03443abe3ec0424b7fc5d1a8863361719bc061338b7a63e56b94d615f201"),
    ("superglue/WiC/train.jsonl", LCEUSTC, "pytorch-transformers/data/WIC/train.jsonl", 1211413, "ce301970aaf361ade6c1d218fe15c50b185b14a4bcb618c5785a8484a46f9943"),
    ("superglue/fewglue_32dev/BoolQ/train.jsonl", FEWGLUE, "FewGLUE/BoolQ/train.jsonl", 24840, "317245ba0842129234a368274701dfc196139aa627eff44aefc827c6888935e1"),
    ("superglue/fewglue_32dev/CB/train.jsonl", FEWGLUE, "FewGLUE/CB/train.jsonl", 13510, "e6f446e5f117cbfbcd156d8221d163cc370924fa594a1d67f44a151ce5c171b2"),
    ("superglue/fewglue_32dev/COPA/train.jsonl", FEWGLUE, "FewGLUE/COPA/train.jsonl", 5818, "9955ae6e0ee109c96c00c0957d5873c0cb4ea9aced83b6a15b15258bb64b7dd5"),
    ("superglue/fewglue_32dev/RTE/train.jsonl", FEWGLUE, "FewGLUE/RTE/train.jsonl", 12775, "91a83197e3a286a8bf102e483646f87cd8b1e4c9c5ccd893bc0b9dba0643d580"),
    ("superglue/fewglue_32dev/WiC/train.jsonl", FEWGLUE, "FewGLUE/WiC/train.jsonl", 7477, "b82c0c3f79d2f19bdd3c894f90f9deff0ebff787822a99ff6420db733c2a88f0"),
)

FILES: dict[str, File] = {}
for _path, _repo, _remote, _size, _sha in _MANIFEST_FILES:
    _remote = _remote or f"data/{_path}"
    if "!" in _remote:
        _archive, _member = _remote.split("!")
        FILES[_path] = File(_path, (), _size, _sha, archive=ARCHIVES[_archive], member=_member)
    else:
        FILES[_path] = File(_path, (Remote(_repo, _remote),), _size, _sha)

# Files the offline copy lacks (>= 4 MiB in every copy it looked at): pinned by git blob id
FILES["e2e/original/trainset.csv"] = File(
    "e2e/original/trainset.csv", (Remote(E2E, "trainset.csv"),),
    git_blob="fa3a5e1124d2aa0d768881e38f8ee73e63d5880d")
# DART train as Prefix-Tuning trained on it: v1.1.1 as released in July 2020 (the same blob in both
# repositories); the April 2021 "update dataset" commit of Yale-LILY/dart changed train and test
FILES["dart/v1.1.1/dart-v1.1.1-full-train.json"] = File(
    "dart/v1.1.1/dart-v1.1.1-full-train.json",
    (Remote(DART_2020, "data/v1.1.1/dart-v1.1.1-full-train.json"), Remote(PT, "data/dart/dart-v1.1.1-full-train.json")),
    git_blob="66d6ce4aeb5d01c318c7fc15d7747ef39ea320be")
# URL <-> BBC id list: the BBC section of every article, needed by the XSUM extrapolation splits
FILES["xsum/XSum-WebArxiveUrls.txt"] = File(
    "xsum/XSum-WebArxiveUrls.txt", (Remote(XSUM, "XSum-Dataset/XSum-WebArxiveUrls.txt"),),
    git_blob="de1ab321de955f65603fe18625a0a38f9a00a0ca")

# ---------------------------------------------------------------------------------------------
# Hugging Face hub parquet (pinned to the parquet-converter branch; namespaced ids only)

PARQUET_REVISION = "refs/convert/parquet"
HUB_SUPERGLUE = "aps/super_glue"
HUB_XSUM = "EdinburghNLP/xsum"
HUB_DART = "Yale-LILY/dart"
HUB_SPLIT_NAMES = {"train": "train", "dev": "validation", "test": "test"}


def hub_split(repo: str, config: str, split: str, folder: str, rows: int | None) -> HubSplit:
    hub = HUB_SPLIT_NAMES[split]
    return HubSplit(repo, PARQUET_REVISION, config, hub, f"{folder}/parquet/{config}/{hub}", rows)


# rows per split, from the hub's dataset cards (super_glue, xsum)
SUPERGLUE_ROWS = {
    "boolq": (9427, 3270), "cb": (250, 56), "copa": (400, 100), "multirc": (27243, 4848),
    "record": (100730, 10000), "rte": (2490, 277), "wic": (5428, 638), "wsc.fixed": (554, 104),
}
SUPERGLUE_FOLDERS = {"boolq": "BoolQ", "cb": "CB", "copa": "COPA", "multirc": "MultiRC", "record": "ReCoRD",
                     "rte": "RTE", "wic": "WiC", "wsc": "WSC"}
XSUM_ROWS = {"train": 204045, "dev": 11332, "test": 11334}


def _files(*paths: str) -> tuple[File, ...]:
    return tuple(FILES[p] for p in paths)


def _webnlg(split: str) -> tuple[File, ...]:
    return tuple(f for p, f in sorted(FILES.items()) if p.startswith(f"webnlg_challenge_2017/{split}/"))


SOURCES: dict[tuple[str, str], tuple[Option, ...]] = {
    ("e2e", "train"): (
        Option("official trainset.csv", _files("e2e/original/trainset.csv"), 4862),
        Option("harvardnlp aligned copy (tokenized; detokenized on reading)",
               _files("e2e/harvardnlp_aligned/src_train.txt", "e2e/harvardnlp_aligned/train.txt"), 4862)),
    ("e2e", "dev"): (Option("official devset.csv", _files("e2e/original/devset.csv"), 547),),
    ("e2e", "test"): (Option("official testset_w_refs.csv", _files("e2e/original/testset_w_refs.csv"), 630),),
    ("webnlg", "train"): (Option("challenge train XML", _webnlg("train"), 6940),),
    ("webnlg", "dev"): (Option("challenge dev XML", _webnlg("dev"), 872),),
    **{("webnlg", s): (Option("challenge test XML", _files("webnlg_challenge_2017/test/testdata_with_lex.xml"), n),)
       for s, n in (("test", 1862), ("test_seen", 971), ("test_unseen", 891))},
    ("dart", "train"): (
        Option("v1.1.1 train JSON", _files("dart/v1.1.1/dart-v1.1.1-full-train.json"), 30526),
        Option("hub parquet (Yale-LILY/dart)", (hub_split(HUB_DART, "default", "train", "dart", None),))),
    ("dart", "dev"): (Option("v1.1.1 dev JSON", _files("dart/v1.1.1/dart-v1.1.1-full-dev.json"), 2768),),
    ("dart", "test"): (Option("v1.1.1 test XML", _files("dart/v1.1.1/dart-v1.1.1-full-test.xml"), 5097),),
    **{("xsum", s): (Option("hub parquet (EdinburghNLP/xsum)", (hub_split(HUB_XSUM, "default", s, "xsum", n),), n),)
       for s, n in XSUM_ROWS.items()},
    ("xsum", "human_eval"): (Option("human-evaluation release", _files(
        "xsum/human_evaluation/xsum-human-evaluation-data.txt"), 50),),
    ("xsum", "hf_fixture"): (Option("transformers test fixture", _files(
        "xsum/samples/hf_transformers_fixture_sample.json"), 10),),
    **{(kind, s): (Option("BBC URL list + official split + articles", _files(
        "xsum/XSum-WebArxiveUrls.txt", "xsum/XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json")
        + (hub_split(HUB_XSUM, "default", s, "xsum", XSUM_ROWS[s]),)),)
       for kind in ("xsum_news_to_sports", "xsum_within_news") for s in ("train", "dev", "test")},
}

for _task, (_train_rows, _dev_rows) in SUPERGLUE_ROWS.items():
    _name = "wsc" if _task == "wsc.fixed" else _task
    _folder = f"superglue/{SUPERGLUE_FOLDERS[_name]}"
    for _split, _rows in (("train", _train_rows), ("dev", _dev_rows)):
        _options = []
        _jsonl = f"{_folder}/{'val' if _split == 'dev' else 'train'}.jsonl"
        _examples = None if _name == "wsc" and _split == "train" else _rows  # WSC train keeps true referents only
        if _jsonl in FILES:
            _options.append(Option("SuperGLUE JSONL", _files(_jsonl), _examples))
        _options.append(Option(f"hub parquet ({HUB_SUPERGLUE}, {_task})",
                               (hub_split(HUB_SUPERGLUE, _task, _split, "superglue", _rows),), _examples))
        SOURCES[(_name, _split)] = tuple(_options)
    for _split, _file in (("fewglue_train", "train"), ("fewglue_dev32", "dev32")):
        _path = f"superglue/fewglue_32dev/{SUPERGLUE_FOLDERS[_name]}/{_file}.jsonl"
        if _path in FILES:
            SOURCES[(_name, _split)] = (Option("FewGLUE / P-tuning JSONL", _files(_path), 32),)


def options(name: str, split: str) -> tuple[Option, ...]:
    """The options of one (dataset, split); () if nothing can be fetched for it."""
    return SOURCES.get((name, split), ())


def hub_repos() -> set[str]:
    """Every hub dataset id the catalog uses (all namespaced)."""
    return {item.repo for opts in SOURCES.values() for o in opts for item in o.items if isinstance(item, HubSplit)}


def hub_path(name: str, split: str) -> str | None:
    """The local folder of the hub parquet option of a (dataset, split), if it has one."""
    for option in options(name, split):
        for item in option.items:
            if isinstance(item, HubSplit):
                return item.path
    return None
