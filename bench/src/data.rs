//! The generated data set: partners, productions, users and their grants,
//! deterministic for a seed, written through the store's bulk paths.

use starship_core::ids::{PartnerId, UserId};
use std::collections::HashMap;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use starship_core::catalogue::{keys, RoleRef};
use starship_core::domain::{Email, Locale, PartnerKind, PersonName, ProductionId, Title, UserStatus};
use starship_store::sqlx::{self, Row};
use starship_store::users::NewUser;
use starship_store::{new_id, now_millis, partners, users, Store, Value};

use crate::log;
use crate::valid::Valid;

/// splitmix64: small, fast and good enough to make data with.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 11) as u128 * n as u128) >> 53) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

pub const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Nancy",
    "Daniel",
    "Lisa",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Dorothy",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "George",
    "Melissa",
    "Edward",
    "Deborah",
    "Ronald",
    "Stephanie",
    "Timothy",
    "Rebecca",
    "Jason",
    "Sharon",
    "Jeffrey",
    "Laura",
    "Ryan",
    "Cynthia",
    "Jacob",
    "Kathleen",
    "Gary",
    "Amy",
    "Nicholas",
    "Shirley",
    "Eric",
    "Angela",
    "Jonathan",
    "Helen",
    "Stephen",
    "Anna",
    "Larry",
    "Brenda",
    "Justin",
    "Pamela",
    "Scott",
    "Nicole",
    "Brandon",
    "Emma",
    "Benjamin",
    "Samantha",
    "Samuel",
    "Katherine",
    "Gregory",
    "Christine",
    "Frank",
    "Debra",
    "Alexander",
    "Rachel",
    "Raymond",
    "Catherine",
    "Patrick",
    "Carolyn",
    "Jack",
    "Janet",
    "Dennis",
    "Ruth",
    "Jerry",
    "Maria",
    "Tyler",
    "Heather",
    "Aaron",
    "Diane",
    "Jose",
    "Virginia",
    "Adam",
    "Julie",
    "Henry",
    "Joyce",
    "Nathan",
    "Victoria",
    "Douglas",
    "Olivia",
    "Zachary",
    "Kelly",
    "Peter",
    "Christina",
    "Kyle",
    "Lauren",
    "Walter",
    "Joan",
    "Ethan",
    "Evelyn",
    "Jeremy",
    "Judith",
    "Harold",
    "Megan",
    "Keith",
    "Cheryl",
    "Christian",
    "Andrea",
    "Roger",
    "Hannah",
    "Noah",
    "Martha",
    "Gerald",
    "Jacqueline",
    "Carl",
    "Frances",
    "Terry",
    "Gloria",
    "Sean",
    "Ann",
    "Austin",
    "Teresa",
    "Arthur",
    "Kathryn",
    "Lawrence",
    "Sara",
    "Jesse",
    "Janice",
    "Dylan",
    "Jean",
    "Bryan",
    "Alice",
    "Joe",
    "Madison",
    "Jordan",
    "Doris",
    "Billy",
    "Abigail",
    "Bruce",
    "Julia",
    "Albert",
    "Judy",
    "Willie",
    "Grace",
    "Gabriel",
    "Denise",
    "Logan",
    "Amber",
    "Alan",
    "Marilyn",
    "Juan",
    "Beverly",
    "Wayne",
    "Danielle",
    "Roy",
    "Theresa",
    "Ralph",
    "Sophia",
    "Randy",
    "Marie",
    "Eugene",
    "Diana",
    "Vincent",
    "Brittany",
    "Russell",
    "Natalie",
    "Elijah",
    "Isabella",
    "Louis",
    "Charlotte",
    "Bobby",
    "Rose",
    "Philip",
    "Alexis",
    "Johnny",
    "Kayla",
    "Ana",
    "Luis",
    "Carmen",
    "Hiroshi",
    "Yuki",
    "Priya",
    "Arjun",
    "Wei",
    "Mei",
    "Olga",
    "Ivan",
    "Fatima",
    "Omar",
    "Sofia",
    "Mateo",
    "Lucia",
    "Liam",
    "Chloe",
    "Noor",
    "Kenji",
    "Aiko",
    "Lars",
    "Ingrid",
    "Pierre",
    "Camille",
    "Giulia",
    "Marco",
    "Zoe",
    "Leo",
];

pub const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jimenez",
    "Powell",
    "Jenkins",
    "Perry",
    "Russell",
    "Sullivan",
    "Bell",
    "Coleman",
    "Butler",
    "Henderson",
    "Barnes",
    "Gonzales",
    "Fisher",
    "Vasquez",
    "Simmons",
    "Romero",
    "Jordan",
    "Patterson",
    "Alexander",
    "Hamilton",
    "Graham",
    "Reynolds",
    "Griffin",
    "Wallace",
    "Moreno",
    "West",
    "Cole",
    "Hayes",
    "Bryant",
    "Herrera",
    "Gibson",
    "Ellis",
    "Tran",
    "Medina",
    "Aguilar",
    "Stevens",
    "Murray",
    "Ford",
    "Castro",
    "Marshall",
    "Owens",
    "Harrison",
    "Fernandez",
    "McDonald",
    "Woods",
    "Washington",
    "Kennedy",
    "Wells",
    "Vargas",
    "Henry",
    "Chen",
    "Freeman",
    "Webb",
    "Tucker",
    "Guzman",
    "Burns",
    "Crawford",
    "Olson",
    "Simpson",
    "Porter",
    "Hunter",
    "Gordon",
    "Mendez",
    "Silva",
    "Shaw",
    "Snyder",
    "Mason",
    "Dixon",
    "Munoz",
    "Hunt",
    "Hicks",
    "Holmes",
    "Palmer",
    "Wagner",
    "Black",
    "Robertson",
    "Boyd",
    "Rose",
    "Stone",
    "Salazar",
    "Fox",
    "Warren",
    "Mills",
    "Meyer",
    "Rice",
    "Schmidt",
    "Garza",
    "Daniels",
    "Ferguson",
    "Nichols",
    "Stephens",
    "Soto",
    "Weaver",
    "Ryan",
    "Gardner",
    "Payne",
    "Grant",
    "Dunn",
    "Kelley",
    "Spencer",
    "Hawkins",
    "Arnold",
    "Pierce",
    "Hansen",
    "Peters",
    "Santos",
    "Hart",
    "Bradley",
    "Knight",
    "Elliott",
    "Tanaka",
    "Suzuki",
    "Yamamoto",
    "Sato",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Singh",
    "Kumar",
    "Sharma",
    "Ivanov",
    "Petrov",
    "Novak",
    "Kowalski",
    "Muller",
    "Schneider",
    "Fischer",
    "Weber",
    "Rossi",
    "Russo",
    "Ferrari",
    "Dubois",
    "Moreau",
    "Laurent",
    "Jansen",
    "Visser",
    "Larsen",
    "Nielsen",
    "Berg",
    "Lindqvist",
    "Haddad",
    "Khan",
    "Ali",
    "Okafor",
];

const PARTNER_WORDS: &[&str] = &[
    "Aurora", "Beacon", "Cascade", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Indigo", "Juniper", "Kestrel",
    "Lumen", "Meridian", "Nimbus", "Orchid", "Pioneer", "Quartz", "Redwood", "Summit", "Tidal", "Umber", "Vertex",
    "Willow", "Xenon", "Yarrow", "Zephyr",
];
const PARTNER_KINDS: &[&str] =
    &["Studios", "Pictures", "Post", "Media", "Dubbing", "Subtitling", "QC Labs", "Networks"];

/// Locales people are created with: mostly en-US, the rest spread.
const LOCALES: &[&str] = &[
    "en-US", "en-US", "en-US", "en-US", "en-GB", "fr-FR", "de-DE", "es-ES", "es-419", "pt-BR", "ja-JP", "ko-KR",
    "it-IT",
];

/// Name popularity: Zipf-like, so a few prefixes match many people and
/// most match few.
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, exponent: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|i| {
                total += 1.0 / ((i + 1) as f64).powf(exponent);
                total
            })
            .collect();
        Self { cumulative }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cumulative.partition_point(|&c| c < x).min(self.cumulative.len() - 1)
    }
}

/// One generated person, compactly: enough to rebuild their prefixes,
/// roles and expected check answers without asking the database.
pub struct Person {
    pub id: UserId,
    pub partner: u32,
    pub first: u16,
    pub last: u16,
    pub email: String,
    pub active: bool,
    /// 0: no Backlot role, 1: Content Partner Operations, 2: Master CPO.
    pub backlot: u8,
    /// Academy User on this production (index into `productions`).
    pub academy: Option<u8>,
    /// 0: none, 1: admin, 2: engineering, 3: read-only.
    pub portal: u8,
}

pub struct PartnerInfo {
    pub id: PartnerId,
    pub name: String,
    pub users: Vec<u32>,
}

pub struct DataSet {
    pub partners: Vec<PartnerInfo>,
    pub productions: Vec<ProductionId>,
    pub people: Vec<Person>,
    pub grants: usize,
}

pub const BIG: u32 = 0;

impl DataSet {
    pub fn first_name(&self, p: &Person) -> &'static str {
        FIRST_NAMES[p.first as usize]
    }

    pub fn last_name(&self, p: &Person) -> &'static str {
        LAST_NAMES[p.last as usize]
    }

    /// The roles a person holds, as the store would load them.
    pub fn roles_of(&self, p: &Person) -> Vec<RoleRef> {
        let mut roles = Vec::with_capacity(3);
        let role = |application: &str, role: &str, production: Option<ProductionId>| RoleRef {
            application: application.into(),
            role: role.into(),
            production,
        };
        match p.backlot {
            1 => roles.push(role(keys::BACKLOT, keys::CONTENT_PARTNER_OPERATIONS, None)),
            2 => roles.push(role(keys::BACKLOT, keys::MASTER_CONTENT_PARTNER_OPERATIONS, None)),
            _ => {}
        }
        if let Some(i) = p.academy {
            roles.push(role(keys::PRODUCTION_ACADEMY, keys::ACADEMY_USER, Some(self.productions[i as usize])));
        }
        match p.portal {
            1 => roles.push(role(keys::PARTNER_PORTAL, keys::PORTAL_ADMIN, None)),
            2 => roles.push(role(keys::PARTNER_PORTAL, keys::PORTAL_ENGINEERING, None)),
            3 => roles.push(role(keys::PARTNER_PORTAL, keys::PORTAL_READ_ONLY, None)),
            _ => {}
        }
        roles
    }

    /// A random 2–4 letter prefix of a random person of this partner (or
    /// of anyone): their first name, last name or email, lower-cased.
    pub fn prefix(&self, rng: &mut Rng, partner: Option<u32>) -> String {
        let person = match partner.filter(|&p| !self.partners[p as usize].users.is_empty()) {
            Some(p) => {
                let users = &self.partners[p as usize].users;
                &self.people[users[rng.below(users.len())] as usize]
            }
            None => &self.people[rng.below(self.people.len())],
        };
        let source = match rng.below(3) {
            0 => self.first_name(person),
            1 => self.last_name(person),
            _ => person.email.as_str(),
        };
        let len = rng.between(2, 4);
        source.chars().take(len).collect::<String>().to_lowercase()
    }
}

impl DataSet {
    /// A random 3–5 letter piece from inside a random person's first name,
    /// last name or email (of this partner, or of anyone), lower-cased:
    /// what the trigram search finds and a prefix search does not.
    pub fn infix(&self, rng: &mut Rng, partner: Option<u32>) -> String {
        let person = match partner.filter(|&p| !self.partners[p as usize].users.is_empty()) {
            Some(p) => {
                let users = &self.partners[p as usize].users;
                &self.people[users[rng.below(users.len())] as usize]
            }
            None => &self.people[rng.below(self.people.len())],
        };
        let source: Vec<char> = match rng.below(3) {
            0 => self.first_name(person),
            1 => self.last_name(person),
            _ => person.email.as_str(),
        }
        .to_lowercase()
        .chars()
        .collect();
        let len = rng.between(3, 5).min(source.len());
        let start = if source.len() > len { 1 + rng.below(source.len() - len) } else { 0 };
        source[start..start + len].iter().collect()
    }
}

pub struct Sizes {
    pub users: usize,
    pub partners: usize,
    pub big_partner: usize,
}

pub const PRODUCTION_IDS: [i64; 5] = [81_000_001, 81_000_002, 81_000_003, 81_000_004, 81_000_005];

/// The progress bar of a long bench phase.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn domain_of(partner_name: &str) -> String {
    let slug: String =
        partner_name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("{}.example.com", slug.trim_matches('-'))
}

/// Writes the data set: productions, partners, users (in chunks, each in a
/// transaction, through `users::insert_many`) and grants (through
/// `starship_store::insert_many`).
/// Whether `generate` writes the data set, or finds it in a database that
/// an earlier run of the same sizes and seed wrote and kept (`--reuse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Write,
    Kept,
}

pub async fn generate(store: &Store, sizes: &Sizes, seed: u64, source: Source) -> Result<DataSet> {
    if sizes.partners < 2 || sizes.big_partner >= sizes.users {
        return Err(anyhow!("need at least 2 partners and more users than the big partner has"));
    }
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    // A kept data set is the same random draws, matched to the rows by
    // partner name and email.
    let (kept_partners, kept_users) = match source {
        Source::Write => (HashMap::new(), HashMap::new()),
        Source::Kept => (
            kept_ids(store, "SELECT id, name AS k FROM partners").await?,
            kept_ids(store, "SELECT id, email_lower AS k FROM users").await?,
        ),
    };
    let kept = |ids: &HashMap<String, String>, key: &str| {
        ids.get(key).cloned().ok_or_else(|| anyhow!("{key} is not in the kept database: other sizes or seed?"))
    };

    let mut tx = store.begin().await?;
    let mut productions = Vec::new();
    for (i, id) in PRODUCTION_IDS.iter().enumerate() {
        let id = ProductionId::parse("production", *id).valid()?;
        if source == Source::Write {
            partners::insert_production(
                &mut tx,
                id,
                &Title::parse("title", &format!("Bench Production {}", i + 1)).valid()?,
                None,
            )
            .await?;
        }
        productions.push(id);
    }
    let mut partner_list = Vec::with_capacity(sizes.partners);
    for i in 0..sizes.partners {
        let name = if i == BIG as usize {
            "Bench Big Studios".to_string()
        } else {
            format!("{} {} {i}", rng.pick(PARTNER_WORDS), rng.pick(PARTNER_KINDS))
        };
        let kind = if i % 10 == 9 { PartnerKind::Fulfillment } else { PartnerKind::Content };
        let id = match source {
            Source::Write => partners::insert(&mut tx, &Title::parse("name", &name).valid()?, kind).await?.id,
            Source::Kept => PartnerId::from(kept(&kept_partners, &name)?),
        };
        partner_list.push(PartnerInfo { id, name, users: Vec::new() });
    }
    tx.commit().await?;

    // Who belongs where: the big partner's share, the rest spread evenly,
    // shuffled so a partner's rows are scattered as in a real table.
    let mut assignment: Vec<u32> = (0..sizes.users)
        .map(|i| if i < sizes.big_partner { BIG } else { 1 + ((i - sizes.big_partner) % (sizes.partners - 1)) as u32 })
        .collect();
    rng.shuffle(&mut assignment);

    let first_zipf = Zipf::new(FIRST_NAMES.len(), 0.8);
    let last_zipf = Zipf::new(LAST_NAMES.len(), 0.8);
    let domains: Vec<String> = partner_list.iter().map(|p| domain_of(&p.name)).collect();

    log!("generating {} users in {} partners ({} in the big one)", sizes.users, sizes.partners, sizes.big_partner);
    let users_bar = bar(sizes.users as u64, "users");
    let mut people: Vec<Person> = Vec::with_capacity(sizes.users);
    const CHUNK: usize = 10_000;
    for chunk_start in (0..sizes.users).step_by(CHUNK) {
        let chunk_end = (chunk_start + CHUNK).min(sizes.users);
        let mut parsed = Vec::with_capacity(chunk_end - chunk_start);
        let mut meta = Vec::with_capacity(chunk_end - chunk_start);
        for (i, &partner) in assignment.iter().enumerate().take(chunk_end).skip(chunk_start) {
            let first = first_zipf.sample(&mut rng) as u16;
            let last = last_zipf.sample(&mut rng) as u16;
            let (f, l) = (FIRST_NAMES[first as usize], LAST_NAMES[last as usize]);
            let domain = &domains[partner as usize];
            let email = match rng.below(3) {
                0 => format!("{f}.{l}{i}@{domain}"),
                1 => format!("{}{l}{i}@{domain}", &f[..1]),
                _ => format!("{l}.{f}{i}@{domain}"),
            };
            let locale = *rng.pick(LOCALES);
            parsed.push((
                Email::parse("email", &email).valid()?,
                PersonName::parse("first_name", f).valid()?,
                PersonName::parse("last_name", l).valid()?,
                Locale::parse("locale", locale).valid()?,
            ));
            let active = rng.chance(0.95);
            let backlot = if rng.chance(0.85) {
                1
            } else if rng.chance(0.67) {
                2
            } else {
                0
            };
            let academy = rng.chance(0.2).then(|| rng.below(productions.len()) as u8);
            let portal = if rng.chance(0.1) { 1 + rng.below(3) as u8 } else { 0 };
            meta.push((partner, first, last, email, active, backlot, academy, portal));
        }
        let new: Vec<NewUser> = parsed
            .iter()
            .zip(&meta)
            .map(|((email, first, last, locale), m)| NewUser {
                partner_id: Some(&partner_list[m.0 as usize].id),
                email,
                first_name: first,
                last_name: last,
                locale: *locale,
                phone: None,
                status: if m.4 { UserStatus::Active } else { UserStatus::Pending },
                password_hash: None,
            })
            .collect();
        let ids: Vec<UserId> = match source {
            Source::Write => {
                let mut tx = store.begin().await?;
                let created = users::insert_many(&mut tx, &new).await.context("inserting a chunk of users")?;
                tx.commit().await?;
                created.into_iter().map(|u| u.id).collect()
            }
            Source::Kept => new
                .iter()
                .map(|n| kept(&kept_users, &n.email.as_str().to_lowercase()).map(UserId::from))
                .collect::<Result<Vec<_>>>()?,
        };
        for (id, (partner, first, last, email, active, backlot, academy, portal)) in ids.into_iter().zip(meta) {
            partner_list[partner as usize].users.push(people.len() as u32);
            people.push(Person { id, partner, first, last, email, active, backlot, academy, portal });
        }
        users_bar.set_position(chunk_end as u64);
    }
    users_bar.finish_and_clear();
    log!("users written in {:.1} s", started.elapsed().as_secs_f64());

    let data = DataSet { partners: partner_list, productions, people, grants: 0 };
    let grants = match source {
        Source::Write => write_grants(store, &data).await?,
        Source::Kept => data.people.iter().map(|p| data.roles_of(p).len()).sum(),
    };
    log!("data set written in {:.1} s ({grants} grants)", started.elapsed().as_secs_f64());
    Ok(DataSet { grants, ..data })
}

/// Ids of a kept database's rows by a key (`k`).
async fn kept_ids(store: &Store, sql: &str) -> Result<HashMap<String, String>> {
    let rows = sqlx::query(sql).fetch_all(store.pool()).await?;
    rows.iter().map(|r| Ok((r.try_get("k")?, r.try_get("id")?))).collect()
}

pub const GRANT_COLUMNS: [&str; 7] =
    ["id", "user_id", "application", "role", "production_id", "granted_by", "created_at"];

async fn write_grants(store: &Store, data: &DataSet) -> Result<usize> {
    let started = Instant::now();
    let grants_bar = bar(data.people.len() as u64, "grants");
    let now = now_millis();
    let mut total = 0;
    const CHUNK: usize = 20_000;
    for (c, chunk) in data.people.chunks(CHUNK).enumerate() {
        let mut rows = Vec::with_capacity(chunk.len() * 2);
        for person in chunk {
            for role in data.roles_of(person) {
                rows.push(vec![
                    Value::Text(new_id()),
                    Value::Text(person.id.to_string()),
                    Value::Text(role.application.into_string()),
                    Value::Text(role.role.into_string()),
                    Value::NullableInt(role.production.map(ProductionId::get)),
                    Value::NullableText(None),
                    Value::Int(now),
                ]);
            }
        }
        total += rows.len();
        let mut tx = store.begin().await?;
        starship_store::insert_many(&mut tx, "grants", &GRANT_COLUMNS, rows).await.context("inserting grants")?;
        tx.commit().await?;
        grants_bar.set_position(((c + 1) * CHUNK).min(data.people.len()) as u64);
    }
    grants_bar.finish_and_clear();
    log!("{total} grants written in {:.1} s", started.elapsed().as_secs_f64());
    Ok(total)
}
