//! Searching users by name or email, as an admin types.

use starship_core::domain::{Email, PersonName, UserStatus};
use starship_core::ids::{PartnerId, UserId};
use starship_store::users::{self, NewUser, User, SMALL_SCOPE};
use starship_store::{Conn, Dialect, Store};

use crate::fixtures::{self, en_us};
use crate::support::{store_test, Backend, TestDb};

/// Two partners: Acme with Ana Lopez, Anabel Ortiz, Carlos Anaya and Dana
/// White; Zenith with Ana Smith and Émile Zola.
struct People {
    acme: PartnerId,
    zenith: PartnerId,
    ana: User,
    anabel: User,
    carlos: User,
    dana: User,
    ana_smith: User,
    emile: User,
}

async fn people(conn: &mut Conn) -> starship_store::Result<People> {
    let acme = fixtures::partner(conn, "Acme Studios").await?.id;
    let zenith = fixtures::partner(conn, "Zenith Post").await?.id;
    Ok(People {
        ana: fixtures::user(conn, Some(&acme), "ana.lopez@acme.example", "Ana", "Lopez").await?,
        anabel: fixtures::user(conn, Some(&acme), "a.ortiz@acme.example", "Anabel", "Ortiz").await?,
        carlos: fixtures::user(conn, Some(&acme), "carlos@acme.example", "Carlos", "Anaya").await?,
        dana: fixtures::user(conn, Some(&acme), "nana@acme.example", "Dana", "White").await?,
        ana_smith: fixtures::user(conn, Some(&zenith), "ana.smith@zenith.example", "Ana", "Smith").await?,
        emile: fixtures::user(conn, Some(&zenith), "emile@zenith.example", "Émile", "Zola").await?,
        acme,
        zenith,
    })
}

async fn ids(
    conn: &mut Conn,
    partner: Option<&PartnerId>,
    query: &str,
    limit: i64,
) -> starship_store::Result<Vec<UserId>> {
    Ok(users::search(conn, partner, query, limit).await?.into_iter().map(|u| u.id).collect())
}

fn sorted(mut ids: Vec<UserId>) -> Vec<UserId> {
    ids.sort();
    ids
}

store_test!(search_matches_the_start_of_a_first_name_last_name_full_name_or_email_then_inside, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    let id = |u: &User| u.id.clone();

    assert_eq!(ids(&mut conn, None, "lop", 10).await?, [id(&p.ana)], "last name");
    assert_eq!(ids(&mut conn, None, "anab", 10).await?, [id(&p.anabel)], "first name");
    assert_eq!(ids(&mut conn, None, "ana lo", 10).await?, [id(&p.ana)], "first and last name");
    assert_eq!(ids(&mut conn, None, "carlos@", 10).await?, [id(&p.carlos)], "email");
    assert_eq!(ids(&mut conn, None, "nana", 10).await?, [id(&p.dana)], "email, not the middle of a name");
    assert_eq!(ids(&mut conn, None, "opez", 10).await?, [id(&p.ana)], "from three letters, inside a name too");
    assert!(ids(&mut conn, None, "pe", 10).await?.is_empty(), "two letters match the start of a word only");
    assert!(ids(&mut conn, None, "white dana", 10).await?.is_empty(), "last then first is not a name");

    let every_ana = sorted(vec![id(&p.ana), id(&p.anabel), id(&p.carlos), id(&p.ana_smith)]);
    let found = ids(&mut conn, None, "ana", 10).await?;
    assert_eq!(sorted(found[..4].to_vec()), every_ana, "first names, last names and emails starting with it first");
    assert_eq!(found[4..], [id(&p.dana)], "then Dana, with it inside");
    Ok(())
});

store_test!(search_ignores_case_and_surrounding_spaces, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    assert_eq!(ids(&mut conn, None, "  ANA LO ", 10).await?, [p.ana.id.as_str()]);
    assert_eq!(ids(&mut conn, None, "A.ORTIZ@ACME", 10).await?, [p.anabel.id.as_str()]);
    assert_eq!(ids(&mut conn, None, "ÉMI", 10).await?, [p.emile.id.as_str()], "accented letters fold too");
    assert_eq!(ids(&mut conn, None, "émile z", 10).await?, [p.emile.id.as_str()]);
    Ok(())
});

store_test!(search_within_a_partner_finds_only_its_users, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    let acme_anas = sorted(vec![p.ana.id.clone(), p.anabel.id.clone(), p.carlos.id.clone(), p.dana.id.clone()]);
    assert_eq!(sorted(ids(&mut conn, Some(&p.acme), "ana", 10).await?), acme_anas);
    assert_eq!(ids(&mut conn, Some(&p.zenith), "ana", 10).await?, [p.ana_smith.id.as_str()]);
    assert!(ids(&mut conn, Some(&p.acme), "emile", 10).await?.is_empty(), "another partner's user");
    assert!(ids(&mut conn, Some(&PartnerId::from("no-such-partner")), "ana", 10).await?.is_empty());
    Ok(())
});

store_test!(search_puts_exact_matches_first, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    // Both match the query as an email prefix; alphabetically Adam comes first.
    let adam = fixtures::user(&mut conn, Some(&acme), "ops@acme.example.org", "Adam", "Beck").await?;
    let zoe = fixtures::user(&mut conn, Some(&acme), "ops@acme.example", "Zoe", "Quinn").await?;
    assert_eq!(ids(&mut conn, None, "ops@acme.example", 10).await?, [zoe.id.clone(), adam.id.clone()]);
    assert_eq!(
        ids(&mut conn, None, "ops@acme.ex", 10).await?,
        [adam.id.clone(), zoe.id.clone()],
        "no exact match: by name"
    );

    // A name match ranks before an email match, unless the email is exact.
    let ops_team = fixtures::user(&mut conn, Some(&acme), "zz@acme.example", "Ops", "Team").await?;
    assert_eq!(ids(&mut conn, None, "ops", 10).await?, [ops_team.id.clone(), adam.id.clone(), zoe.id.clone()]);
    Ok(())
});

store_test!(search_returns_at_most_the_limit, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    let mut sams = vec![];
    for i in 1..=12 {
        sams.push(
            fixtures::user(&mut conn, Some(&acme), &format!("sam{i:02}@acme.example"), "Sam", &format!("Number{i:02}"))
                .await?
                .id,
        );
    }
    assert_eq!(ids(&mut conn, None, "sam", 5).await?, sams[..5], "the first five by name");
    assert_eq!(ids(&mut conn, Some(&acme), "sam", 20).await?, sams);
    assert_eq!(ids(&mut conn, None, "sam", 0).await?.len(), 1, "a limit below one is one");
    Ok(())
});

store_test!(an_empty_search_finds_nobody, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    assert!(ids(&mut conn, None, "", 10).await?.is_empty());
    assert!(ids(&mut conn, None, "   ", 10).await?.is_empty());
    assert!(ids(&mut conn, Some(&p.acme), "", 10).await?.is_empty());
    assert!(ids(&mut conn, None, "zzz", 10).await?.is_empty());
    Ok(())
});

store_test!(a_page_the_prefixes_fill_shows_no_match_from_inside, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    let acme = Some(&p.acme);
    // First names, then last names, then inside (Dana's "nana@" address).
    assert_eq!(ids(&mut conn, acme, "ana", 2).await?, [p.ana.id.clone(), p.anabel.id.clone()]);
    assert_eq!(ids(&mut conn, acme, "ana", 3).await?, [p.ana.id.clone(), p.anabel.id.clone(), p.carlos.id.clone()]);
    assert_eq!(
        ids(&mut conn, acme, "ana", 4).await?,
        [p.ana.id.clone(), p.anabel.id.clone(), p.carlos.id.clone(), p.dana.id.clone()],
        "matches inside once the prefixes are all shown"
    );
    Ok(())
});

store_test!(matches_inside_come_closest_first, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    let long = fixtures::user(
        &mut conn,
        Some(&acme),
        "maximiliano.mortegaldo-fitzgerald@acme.example",
        "Maximiliano",
        "Mortegaldo-Fitzgerald",
    )
    .await?;
    let short = fixtures::user(&mut conn, Some(&acme), "bo@acme.example", "Bo", "Kortega").await?;
    for partner in [Some(&acme), None] {
        assert_eq!(ids(&mut conn, partner, "rteg", 10).await?, [short.id.clone(), long.id.clone()]);
    }
    Ok(())
});

store_test!(pieces_across_dots_at_signs_dashes_and_spaces_are_found_inside_and_nothing_else, |store| async move {
    let mut conn = store.conn().await?;
    let p = people(&mut conn).await?;
    let jo = fixtures::user(&mut conn, Some(&p.acme), "jo@acme.example", "Jo", "Smith-Hale").await?;
    // Whose text holds the letters a separator is indexed as (PostgreSQL
    // reads them as q), next to the same letters: found only for what they
    // really hold.
    let bo = fixtures::user(&mut conn, Some(&p.acme), "bo@acme.example", "Bo", "Oqsmall").await?;
    for partner in [Some(&p.acme), None] {
        assert_eq!(ids(&mut conn, partner, "a.lo", 10).await?, [p.ana.id.as_str()], "a dot inside an email");
        assert_eq!(ids(&mut conn, partner, "iz@ac", 10).await?, [p.anabel.id.as_str()], "an at sign");
        assert_eq!(ids(&mut conn, partner, "h-ha", 10).await?, [jo.id.as_str()], "a dash inside a last name");
        assert_eq!(ids(&mut conn, partner, "o sm", 10).await?, [jo.id.as_str()], "across first and last name");
        assert_eq!(ids(&mut conn, partner, "oqsm", 10).await?, [bo.id.as_str()], "the letters themselves");
        assert!(ids(&mut conn, partner, "a_lo", 10).await?.is_empty(), "an underscore is no wildcard");
        assert!(ids(&mut conn, partner, "a@lo", 10).await?.is_empty(), "an at sign is not a dot or a space");
        assert!(ids(&mut conn, partner, "n%a", 10).await?.is_empty(), "a percent sign is no wildcard");
    }
    Ok(())
});

store_test!(search_inside_a_large_partner_finds_only_its_people, |store| async move {
    let mut conn = store.conn().await?;
    let big = fixtures::partner(&mut conn, "Big Studios").await?.id;
    let small = fixtures::partner(&mut conn, "Small Post").await?.id;
    let before = fixtures::user(&mut conn, Some(&small), "ines.quarto@small.example", "Ines", "Quarto").await?;
    // More people than a partner read row by row has, so PostgreSQL asks
    // its index, every part of which holds some of them.
    let rows: Vec<(Email, PersonName, PersonName)> = (0..=SMALL_SCOPE)
        .map(|i| {
            let last = if i % (SMALL_SCOPE / 10) == 7 { "Stroquart" } else { "Person" };
            (fixtures::email(&format!("p{i}@big.example")), fixtures::name("Pat"), fixtures::name(last))
        })
        .collect();
    let new: Vec<NewUser> = rows
        .iter()
        .map(|(email, first, last)| NewUser {
            partner_id: Some(&big),
            email,
            first_name: first,
            last_name: last,
            locale: en_us(),
            phone: None,
            status: UserStatus::Active,
            password_hash: None,
        })
        .collect();
    let added = users::insert_many(&mut conn, &new).await?;
    let after = fixtures::user(&mut conn, Some(&small), "q@small.example", "Luca", "Aquarti").await?;
    let operator = fixtures::user(&mut conn, None, "quart@starship.example", "Olivia", "Op").await?;
    let big_quarts: Vec<UserId> =
        added.iter().filter(|u| u.last_name.starts_with("Stroquart")).map(|u| u.id.clone()).collect();
    assert_eq!(big_quarts.len(), 10);

    assert_eq!(sorted(ids(&mut conn, Some(&big), "quart", 20).await?), sorted(big_quarts.clone()));
    assert_eq!(
        sorted(ids(&mut conn, Some(&big), "t stroq", 20).await?),
        sorted(big_quarts.clone()),
        "across first and last name"
    );
    assert!(ids(&mut conn, Some(&big), "tqstroq", 20).await?.is_empty(), "the letter a space is indexed as");
    assert!(ids(&mut conn, Some(&big), "quarto", 20).await?.is_empty(), "another partner's person");
    assert_eq!(
        sorted(ids(&mut conn, Some(&small), "quart", 20).await?),
        sorted(vec![before.id.clone(), after.id.clone()]),
        "before and after the large partner's people"
    );
    let everyone = ids(&mut conn, None, "quart", 20).await?;
    assert_eq!(everyone[..2], [before.id.clone(), operator.id.clone()], "a last name, then an email, starting with it");
    let mut inside = big_quarts;
    inside.push(after.id);
    assert_eq!(sorted(everyone[2..].to_vec()), sorted(inside));
    Ok(())
});

/// People written before the trigram index knew partners (0025) are found
/// inside their partner's names after the upgrade, and so are the people
/// added after it, deleted people are not.
async fn people_from_before_search_by_partner(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(db.url()).await.unwrap();
    let all = match store.dialect() {
        Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    let before = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(all.iter().filter(|m| m.version < 25).cloned().collect()),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    before.run(store.pool()).await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let p = people(&mut conn).await.unwrap();
    let gone = fixtures::user(&mut conn, Some(&p.acme), "gone@acme.example", "Gone", "Lopez").await.unwrap();
    assert!(users::mark_deleted(&mut conn, &gone.id).await.unwrap());
    drop(conn);

    store.migrate().await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let later = fixtures::user(&mut conn, Some(&p.acme), "m@acme.example", "Maria", "Perez").await.unwrap();
    assert_eq!(ids(&mut conn, Some(&p.acme), "ope", 10).await.unwrap(), [p.ana.id.as_str()]);
    assert_eq!(ids(&mut conn, Some(&p.acme), "erez", 10).await.unwrap(), [later.id.as_str()]);
    assert_eq!(ids(&mut conn, Some(&p.zenith), "mith", 10).await.unwrap(), [p.ana_smith.id.as_str()]);
    assert!(ids(&mut conn, Some(&p.zenith), "ope", 10).await.unwrap().is_empty());
    assert_eq!(sorted(ids(&mut conn, None, "ope", 10).await.unwrap()), sorted(vec![p.ana.id.clone()]));
    drop(conn);
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn people_from_before_search_by_partner_are_found_inside_their_partner_sqlite() {
    people_from_before_search_by_partner(Backend::Sqlite).await;
}

#[tokio::test]
async fn people_from_before_search_by_partner_are_found_inside_their_partner_postgres() {
    people_from_before_search_by_partner(Backend::Postgres).await;
}

/// On PostgreSQL the trigram index is asked directly: it finds the people
/// of every partner and of none across partners, only the partner's
/// within one, and stops once it has the candidates asked for, taking
/// them from more than one of its parts when the first hold too few.
#[tokio::test]
async fn the_postgres_trigram_index_finds_a_piece_in_every_partner_and_among_operators() {
    let db = TestDb::new(Backend::Postgres).await;
    let store = Store::connect(db.url()).await.unwrap();
    store.migrate().await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let mut holders = vec![];
    let mut partners = vec![];
    for i in 0..40 {
        let partner = fixtures::partner(&mut conn, &format!("Partner {i}")).await.unwrap().id;
        let email = format!("z{i}@p{i}.example");
        holders.push(fixtures::user(&mut conn, Some(&partner), &email, "Zed", "Marquarvik").await.unwrap().id);
        fixtures::user(&mut conn, Some(&partner), &format!("o{i}@p{i}.example"), "Other", "Person").await.unwrap();
        partners.push(partner);
    }
    holders.push(fixtures::user(&mut conn, None, "olga@starship.example", "Olga", "Quarvikson").await.unwrap().id);

    let candidates = |scope: Option<PartnerId>, wanted: i64| {
        sqlx::query_scalar::<_, UserId>("SELECT users_inside_candidates($1, 'uarvi', $2)").bind(scope).bind(wanted)
    };
    let across = candidates(None, 100).fetch_all(&mut *conn).await.unwrap();
    assert_eq!(sorted(across), sorted(holders.clone()));
    assert_eq!(candidates(None, 5).fetch_all(&mut *conn).await.unwrap().len(), 5);
    // No part holds 30 of the 41 (the largest holds about half), so
    // these come from several parts, each asked for what is still wanted.
    let thirty = candidates(None, 30).fetch_all(&mut *conn).await.unwrap();
    assert_eq!(thirty.len(), 30);
    assert!(thirty.iter().all(|id| holders.contains(id)));
    assert_eq!(sorted(thirty.clone()).windows(2).filter(|w| w[0] == w[1]).count(), 0, "nobody twice");
    for (partner, holder) in partners.iter().zip(&holders) {
        assert_eq!(candidates(Some(partner.clone()), 100).fetch_all(&mut *conn).await.unwrap(), [holder.as_str()]);
    }
    drop(conn);
    store.close().await;
    db.drop_db().await;
}
