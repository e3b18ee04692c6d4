//! Partner Portal records: contact roles, sites, appliances, tickets.

use starship_core::ids::TicketId;
use starship_store::{appliances, communications, contacts, partners, sites, tickets, StoreError};

use crate::fixtures;
use crate::support::store_test;

store_test!(a_contacts_roles_are_replaced_as_a_whole, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme ISP").await?.id;
    let noc = fixtures::user(&mut conn, Some(&acme), "noc@acme.example", "Nora", "Ops").await?.id;
    let roles = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();

    contacts::set_contact_roles(&mut conn, &noc, &roles(&["noc", "engineering", "noc"])).await?;
    assert_eq!(contacts::contact_roles_of(&mut conn, &noc).await?, ["engineering", "noc"]);
    contacts::set_contact_roles(&mut conn, &noc, &roles(&["logistics"])).await?;
    assert_eq!(contacts::contact_roles_of(&mut conn, &noc).await?, ["logistics"]);
    contacts::set_contact_roles(&mut conn, &noc, &[]).await?;
    assert!(contacts::contact_roles_of(&mut conn, &noc).await?.is_empty());
    assert!(
        contacts::set_contact_roles(&mut conn, &noc, &roles(&["astronaut"])).await.is_err(),
        "a contact role not in the catalogue"
    );
    Ok(())
});

store_test!(site_names_are_unique_within_a_partner_whatever_their_case, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme ISP").await?.id;
    let zenith = fixtures::partner(&mut conn, "Zenith ISP").await?.id;
    sites::insert_site(&mut conn, &acme, "Lisbon IX", "Lisbon, PT").await?;
    sites::insert_site(&mut conn, &acme, "Amsterdam", "Amsterdam, NL").await?;
    let again = sites::insert_site(&mut conn, &acme, "LISBON ix", "Elsewhere").await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{:?}", again.map(|s| s.id));
    sites::insert_site(&mut conn, &zenith, "Lisbon IX", "Lisbon, PT").await?;

    let names: Vec<String> = sites::sites_of_partner(&mut conn, &acme).await?.into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["Amsterdam", "Lisbon IX"]);
    assert_eq!(sites::sites_of_partner(&mut conn, &zenith).await?.len(), 1);
    Ok(())
});

store_test!(appliances_tickets_and_site_contacts_are_stored, |store| async move {
    let mut conn = store.conn().await?;
    assert!(partners::is_empty(&mut conn).await?);
    let acme = fixtures::partner(&mut conn, "Acme ISP").await?.id;
    assert!(!partners::is_empty(&mut conn).await?);
    let noc = fixtures::user(&mut conn, Some(&acme), "noc@acme.example", "Nora", "Ops").await?.id;
    let site = sites::insert_site(&mut conn, &acme, "Lisbon IX", "Lisbon, PT").await?.id;
    let other_site = sites::insert_site(&mut conn, &acme, "Porto", "Porto, PT").await?.id;
    sites::link_site(&mut conn, &noc, &site).await?;
    sites::link_site(&mut conn, &noc, &site).await?;
    assert_eq!(sites::sites_of_user(&mut conn, &noc).await?, [site.as_str()], "linked once");
    sites::add_survey_contact(&mut conn, &site, &noc).await?;
    sites::add_survey_contact(&mut conn, &site, &noc).await?;
    let at_site = communications::reachable(&mut conn, &acme, Some(&site)).await?;
    assert_eq!(at_site.len(), 1, "named once");
    assert_eq!((at_site[0].user_id.as_str(), at_site[0].on_survey), (noc.as_str(), true));
    let elsewhere = communications::reachable(&mut conn, &acme, Some(&other_site)).await?;
    assert!(elsewhere.is_empty(), "neither linked to nor surveyed at the other site");

    let oca = appliances::insert_appliance(&mut conn, &acme, &site, "OCA-0001", "Flash").await?;
    let twin = appliances::insert_appliance(&mut conn, &acme, &site, "OCA-0001", "Storage").await;
    assert!(matches!(twin, Err(StoreError::Conflict(_))), "serials are unique: {twin:?}");
    let appliances = appliances::appliances_of_partner(&mut conn, &acme).await?;
    assert_eq!(appliances.len(), 1, "the twin was not stored");
    let stored = appliances::get_appliance(&mut conn, &oca).await?.expect("the appliance");
    assert_eq!(
        (stored.id.as_str(), stored.partner_id.as_str(), stored.site_id.as_str(), stored.serial.as_str()),
        (oca.as_str(), acme.as_str(), site.as_str(), "OCA-0001")
    );
    assert_eq!((stored.model.as_str(), stored.status.as_str()), ("Flash", "serving"));
    assert_eq!((stored.status_changed_by, stored.status_changed_at), (None, None));

    let ticket = tickets::insert_ticket(&mut conn, &acme, "BGP session down", "Since 10:00 UTC", Some(&noc)).await?;
    let comment =
        tickets::insert_ticket_comment(&mut conn, &ticket, Some(&noc), "noc@acme.example", "Back up now").await?;
    assert!(tickets::insert_ticket_comment(&mut conn, &TicketId::from("no-such-ticket"), None, "system", "…")
        .await
        .is_err());
    let stored = tickets::get_ticket(&mut conn, &ticket).await?.expect("the ticket");
    assert_eq!(
        (stored.partner_id.as_str(), stored.subject.as_str(), stored.body.as_str(), stored.status.as_str()),
        (acme.as_str(), "BGP session down", "Since 10:00 UTC", "open")
    );
    assert_eq!(stored.opened_by.as_deref(), Some(noc.as_str()));
    let listed: Vec<TicketId> =
        tickets::tickets_of_partner(&mut conn, &acme).await?.into_iter().map(|t| t.id).collect();
    assert_eq!(listed, [ticket.as_str()]);
    let comments = tickets::ticket_comments(&mut conn, &ticket).await?;
    assert_eq!(comments.len(), 1, "the comment on no ticket was not stored");
    assert_eq!(
        (
            comments[0].id.as_str(),
            comments[0].author_id.as_deref(),
            comments[0].author.as_str(),
            comments[0].body.as_str()
        ),
        (comment.as_str(), Some(noc.as_str()), "noc@acme.example", "Back up now")
    );
    Ok(())
});
