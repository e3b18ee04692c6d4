//! SCIM Groups: a partner's directory groups and their members, and the
//! roles a partner admin maps a group to. Members hold a group's mapped
//! roles while they are members, as real grants given through
//! `ops::grants::grant_roles` under the mapping author's rule (re-checked each
//! time a mapping is applied) and revoked with History like any grant, in
//! the transaction of the membership change. `scim_mapped_grants` records
//! which grants a mapping stands behind, so a role the person held before
//! stays when the mapping stops applying.

use serde_json::{json, Map, Value};
use starship_core::authz::{self, Principal};
use starship_core::catalogue::RequestedRole;
use starship_core::domain::Title;
use starship_core::history::Kind;
use starship_core::ids::{PartnerId, ScimGroupId, ScimMappingId, UserId};
use starship_core::scim_filter::{self, Attr, Filter, GroupPath};
use starship_store::history::{self, Actor};
use starship_store::scim::Sort;
use starship_store::scim_groups::{self, Group, Mapping, Member};
use starship_store::{grants, partners, users, Conn};

use super::{
    check_version, patch_operations, string, ListQuery, PatchOperation, ScimCaller, ScimError, ScimResult, MAX_RESULTS,
};
use crate::ops::{OperationError, OperationResult};
use crate::state::AppState;

pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A group with its members.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub group: Group,
    pub members: Vec<Member>,
}

/// The ETag version of a group: it changes with every write.
pub fn version(group: &Group) -> String {
    format!("W/\"{}\"", group.updated_at)
}

async fn view(conn: &mut Conn, group: Group) -> ScimResult<GroupView> {
    let members = scim_groups::members(conn, std::slice::from_ref(&group.id)).await?;
    Ok(GroupView { group, members })
}

async fn load(conn: &mut Conn, caller: &ScimCaller, id: &ScimGroupId) -> ScimResult<Group> {
    scim_groups::get(conn, caller.partner_id(), id).await?.ok_or_else(|| OperationError::NotFound.into())
}

pub async fn get_group(state: &AppState, caller: &ScimCaller, id: &ScimGroupId) -> ScimResult<GroupView> {
    let mut conn = state.store.conn().await.map_err(OperationError::from)?;
    let group = load(&mut conn, caller, id).await?;
    view(&mut conn, group).await
}

pub fn parse_filter(text: &str) -> ScimResult<Filter> {
    scim_filter::parse_group(text).map_err(|e| ScimError::new(400, Some("invalidFilter"), e.0))
}

/// A page of the partner's groups: (total, 1-based start, groups).
pub async fn list_groups(
    state: &AppState,
    caller: &ScimCaller,
    query: &ListQuery,
) -> ScimResult<(i64, i64, Vec<GroupView>)> {
    let filter = match query.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(text) => Some(parse_filter(text)?),
        None => None,
    };
    let sort = match &query.sort_by {
        Some(by) => {
            let by = Attr::parse_group(by)
                .filter(|a| *a != Attr::MembersValue)
                .ok_or_else(|| ScimError::invalid_value("cannot sort by that"))?;
            let descending = query.sort_order.as_deref().is_some_and(|o| o.eq_ignore_ascii_case("descending"));
            Some(Sort { by, descending })
        }
        None => None,
    };
    let start = query.start_index.unwrap_or(1).max(1);
    let count = query.count.unwrap_or(MAX_RESULTS).clamp(0, MAX_RESULTS);
    let mut conn = state.store.conn().await.map_err(OperationError::from)?;
    let (total, groups) =
        scim_groups::list(&mut conn, caller.partner_id(), filter.as_ref(), sort, start - 1, count).await?;
    let ids: Vec<ScimGroupId> = groups.iter().map(|g| g.id.clone()).collect();
    let mut members = scim_groups::members(&mut conn, &ids).await?;
    let views = groups
        .into_iter()
        .map(|group| {
            let (mine, rest): (Vec<Member>, Vec<Member>) = members.drain(..).partition(|m| m.group_id == group.id);
            members = rest;
            GroupView { group, members: mine }
        })
        .collect();
    Ok((total, start, views))
}

/// A group as SCIM describes it, reduced to what Starship keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredGroup {
    pub display_name: String,
    pub external_id: Option<String>,
    /// Member ids, each once, in the order given.
    pub members: Vec<UserId>,
}

impl DesiredGroup {
    pub fn of(current: &GroupView) -> Self {
        Self {
            display_name: current.group.display_name.clone(),
            external_id: current.group.external_id.clone(),
            members: current.members.iter().map(|m| m.user_id.clone()).collect(),
        }
    }

    fn add_member(&mut self, id: UserId) {
        if !self.members.contains(&id) {
            self.members.push(id);
        }
    }
}

fn object<'a>(value: &'a Value, what: &str) -> ScimResult<&'a Map<String, Value>> {
    value.as_object().ok_or_else(|| ScimError::invalid_value(format!("{what} must be an object")))
}

/// The member ids of a `members` value: an array of `{value}` (or one).
fn member_ids(value: &Value) -> ScimResult<Vec<UserId>> {
    let items = match value {
        Value::Array(items) => items.as_slice(),
        Value::Object(_) => std::slice::from_ref(value),
        Value::Null => &[],
        _ => return Err(ScimError::invalid_value("members must be an array of {value}")),
    };
    items
        .iter()
        .map(|item| {
            let item = object(item, "a member")?;
            for key in item.keys() {
                if !matches!(key.to_ascii_lowercase().as_str(), "value" | "display" | "type" | "$ref") {
                    return Err(ScimError::invalid_value(format!("unknown attribute members.{key}")));
                }
            }
            item.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .and_then(|(_, v)| v.as_str())
                .map(UserId::from)
                .ok_or_else(|| ScimError::invalid_value("each member needs a value: a user's id"))
        })
        .collect()
}

/// Reads a whole Group resource (POST, PUT); read-only attributes are
/// ignored, unknown ones refused.
pub fn desired_from_resource(body: &Value) -> ScimResult<DesiredGroup> {
    let body = object(body, "the body")?;
    let mut desired = DesiredGroup { display_name: String::new(), external_id: None, members: vec![] };
    for (key, value) in body {
        match key.to_ascii_lowercase().as_str() {
            "schemas" | "id" | "meta" => {}
            "displayname" => desired.display_name = string(value, "displayName")?,
            "externalid" => desired.external_id = value.as_str().map(str::to_string),
            "members" => {
                for id in member_ids(value)? {
                    desired.add_member(id);
                }
            }
            other => return Err(ScimError::invalid_value(format!("unknown attribute '{other}'"))),
        }
    }
    Ok(desired)
}

/// Applies a PatchOp to a group: ops may be capitalised; `members` added,
/// removed (all, those listed in the value, or `members[value eq "…"]`)
/// or replaced; `displayName` and `externalId` set with a path or in a
/// value object without one (as Entra ID and Okta send them).
pub fn apply_patch(current: &DesiredGroup, body: &Value) -> ScimResult<DesiredGroup> {
    let mut desired = current.clone();
    for PatchOperation { op, path, value } in patch_operations(body)? {
        match (op.as_str(), path) {
            ("add" | "replace", None) => {
                let value = object(value.unwrap_or(&Value::Null), "without a path, the value")?;
                for (key, v) in value {
                    set(&mut desired, &op, key, v)?;
                }
            }
            ("add" | "replace", Some(path)) => {
                let value = value.ok_or_else(|| ScimError::invalid_value("this operation needs a value"))?;
                set(&mut desired, &op, path, value)?;
            }
            ("remove", Some(path)) => remove(&mut desired, path, value)?,
            ("remove", None) => return Err(ScimError::new(400, Some("noTarget"), "remove needs a path")),
            (other, _) => return Err(ScimError::new(400, Some("invalidSyntax"), format!("unknown op '{other}'"))),
        }
    }
    Ok(desired)
}

fn parse_path(path: &str) -> ScimResult<GroupPath> {
    scim_filter::parse_group_path(path).map_err(|e| ScimError::new(400, Some("invalidPath"), e.0))
}

fn set(desired: &mut DesiredGroup, op: &str, path: &str, value: &Value) -> ScimResult<()> {
    let GroupPath::Attribute(attribute) = parse_path(path)? else {
        return Err(ScimError::new(400, Some("invalidPath"), "a value filter selects members to remove"));
    };
    match attribute.as_str() {
        "displayname" => desired.display_name = string(value, "displayName")?,
        "externalid" => desired.external_id = value.as_str().map(str::to_string),
        "members" | "members.value" => {
            let ids = if attribute == "members" {
                member_ids(value)?
            } else {
                vec![UserId::from(string(value, "members.value")?)]
            };
            if op == "replace" {
                desired.members.clear();
            }
            for id in ids {
                desired.add_member(id);
            }
        }
        // Entra ID sends the id back in a replace without a path.
        "id" if value.as_str().is_some() => {}
        "id" | "meta" | "schemas" => {
            return Err(ScimError::new(400, Some("mutability"), format!("'{attribute}' cannot be changed")))
        }
        other => return Err(ScimError::new(400, Some("invalidPath"), format!("unknown attribute '{other}'"))),
    }
    Ok(())
}

fn remove(desired: &mut DesiredGroup, path: &str, value: Option<&Value>) -> ScimResult<()> {
    match parse_path(path)? {
        GroupPath::Members(filter) => desired.members.retain(|id| !filter.matches_member(id)),
        GroupPath::Attribute(attribute) => match attribute.as_str() {
            "members" => match value.filter(|v| !v.is_null()) {
                Some(value) => {
                    let gone = member_ids(value)?;
                    desired.members.retain(|id| !gone.contains(id));
                }
                None => desired.members.clear(),
            },
            "externalid" => desired.external_id = None,
            "displayname" => {
                return Err(ScimError::new(400, Some("mutability"), "'displayName' is required"));
            }
            other => return Err(ScimError::new(400, Some("invalidPath"), format!("unknown attribute '{other}'"))),
        },
    }
    Ok(())
}

/// Creates a group of the partner with its members, in one transaction.
pub async fn create_group(state: &AppState, caller: &ScimCaller, desired: &DesiredGroup) -> ScimResult<GroupView> {
    let mut tx = state.store.begin().await.map_err(OperationError::from)?;
    let name = checked_name(&mut tx, caller, desired, "").await?;
    let members = checked_members(&mut tx, caller, desired).await?;
    let group = scim_groups::insert(&mut tx, caller.partner_id(), &name, desired.external_id.as_deref()).await?;
    note_change(&mut tx, caller, &group, json!({"change": "created"})).await?;
    join(&mut tx, state, &caller.actor(), &group, &members).await?;
    let view = view(&mut tx, group).await?;
    tx.commit().await.map_err(OperationError::from)?;
    Ok(view)
}

/// Brings a group to the desired state in one transaction (PUT, PATCH).
pub async fn update_group(
    state: &AppState,
    caller: &ScimCaller,
    id: &ScimGroupId,
    if_match: Option<&str>,
    change: impl FnOnce(&DesiredGroup) -> ScimResult<DesiredGroup>,
) -> ScimResult<GroupView> {
    let mut tx = state.store.begin().await.map_err(OperationError::from)?;
    let group = load(&mut tx, caller, id).await?;
    check_version(&version(&group), if_match)?;
    let before = DesiredGroup::of(&view(&mut tx, group.clone()).await?);
    let desired = change(&before)?;
    let name = checked_name(&mut tx, caller, &desired, &group.id).await?;
    let members = checked_members(&mut tx, caller, &desired).await?;
    let leaving: Vec<UserId> = before.members.iter().filter(|m| !members.contains(m)).cloned().collect();
    let joining: Vec<UserId> = members.iter().filter(|m| !before.members.contains(m)).cloned().collect();
    let renamed = name != before.display_name || desired.external_id != before.external_id;
    if renamed || !leaving.is_empty() || !joining.is_empty() {
        scim_groups::update(&mut tx, &group.id, &name, desired.external_id.as_deref()).await?;
    }
    if renamed {
        let details = json!({
            "change": "renamed",
            "from": {"display_name": before.display_name, "external_id": before.external_id},
            "to": {"display_name": name, "external_id": desired.external_id},
        });
        note_change(&mut tx, caller, &group, details).await?;
    }
    let actor = caller.actor();
    leave(&mut tx, &actor, &group, &leaving).await?;
    join(&mut tx, state, &actor, &group, &joining).await?;
    let group = load(&mut tx, caller, id).await?;
    let view = view(&mut tx, group).await?;
    tx.commit().await.map_err(OperationError::from)?;
    Ok(view)
}

/// Deletes a group: its members leave it first (losing what it gave).
pub async fn delete_group(
    state: &AppState,
    caller: &ScimCaller,
    id: &ScimGroupId,
    if_match: Option<&str>,
) -> ScimResult<()> {
    let mut tx = state.store.begin().await.map_err(OperationError::from)?;
    let group = load(&mut tx, caller, id).await?;
    check_version(&version(&group), if_match)?;
    let members = DesiredGroup::of(&view(&mut tx, group.clone()).await?).members;
    leave(&mut tx, &caller.actor(), &group, &members).await?;
    scim_groups::delete(&mut tx, &group.id).await?;
    note_change(&mut tx, caller, &group, json!({"change": "deleted"})).await?;
    tx.commit().await.map_err(OperationError::from)?;
    Ok(())
}

/// A person leaves every group (the person is removed from the directory).
pub(crate) async fn leave_all(
    conn: &mut Conn,
    actor: &Actor,
    partner_id: &PartnerId,
    user_id: &UserId,
) -> OperationResult<()> {
    for group_id in scim_groups::groups_of(conn, user_id).await? {
        if let Some(group) = scim_groups::get(conn, partner_id, &group_id).await? {
            leave(conn, actor, &group, std::slice::from_ref(user_id)).await?;
        }
    }
    Ok(())
}

async fn checked_name(
    conn: &mut Conn,
    caller: &ScimCaller,
    desired: &DesiredGroup,
    except: &str,
) -> ScimResult<String> {
    let name = Title::parse("displayName", desired.display_name.trim()).map_err(OperationError::from)?;
    if scim_groups::name_taken(conn, caller.partner_id(), name.as_str(), except).await? {
        return Err(ScimError::new(409, Some("uniqueness"), "another group of this partner has this displayName"));
    }
    Ok(name.as_str().to_string())
}

/// Members are people of the token's partner: any other id is refused,
/// never linked.
async fn checked_members(conn: &mut Conn, caller: &ScimCaller, desired: &DesiredGroup) -> ScimResult<Vec<UserId>> {
    let found = scim_groups::people_of_partner(conn, caller.partner_id(), &desired.members).await?;
    if let Some(unknown) = desired.members.iter().find(|id| !found.contains(id)) {
        return Err(ScimError::invalid_value(format!("no user '{unknown}' in this directory")));
    }
    Ok(found)
}

/// A group's creation, renaming or deletion, in the History of the person
/// behind the token.
async fn note_change(conn: &mut Conn, caller: &ScimCaller, group: &Group, mut details: Value) -> ScimResult<()> {
    details["group_id"] = json!(group.id);
    details["group"] = json!(group.display_name);
    history::append(conn, &caller.token.created_by, &caller.actor(), Kind::ScimGroupChanged, details).await?;
    Ok(())
}

/// People join a group: History for each, and the group's mappings applied.
async fn join(
    conn: &mut Conn,
    state: &AppState,
    actor: &Actor,
    group: &Group,
    user_ids: &[UserId],
) -> OperationResult<()> {
    let added = scim_groups::add_members(conn, &group.id, user_ids).await?;
    if added.is_empty() {
        return Ok(());
    }
    let details = json!({"group_id": group.id, "group": group.display_name});
    let entries = added.iter().map(|id| (id.clone(), Kind::ScimGroupJoined, details.clone())).collect();
    history::append_many(conn, actor, entries).await?;
    for mapping in scim_groups::mappings(conn, std::slice::from_ref(&group.id)).await? {
        grant_mapped(conn, state, actor, &group.partner_id, &mapping, &added).await?;
    }
    Ok(())
}

/// People leave a group: History for each, and what its mappings gave
/// them revoked.
async fn leave(conn: &mut Conn, actor: &Actor, group: &Group, user_ids: &[UserId]) -> OperationResult<()> {
    let removed = scim_groups::remove_members(conn, &group.id, user_ids).await?;
    if removed.is_empty() {
        return Ok(());
    }
    for mapping in scim_groups::mappings(conn, std::slice::from_ref(&group.id)).await? {
        revoke_mapped(conn, actor, &mapping, Some(&removed)).await?;
    }
    let details = json!({"group_id": group.id, "group": group.display_name});
    let entries = removed.iter().map(|id| (id.clone(), Kind::ScimGroupLeft, details.clone())).collect();
    history::append_many(conn, actor, entries).await?;
    Ok(())
}

/// Gives some members a mapping's role, under what its author may grant
/// now: an author who may no longer sign in or grant the role gives
/// nothing. A role the person already holds is only noted as backed.
async fn grant_mapped(
    conn: &mut Conn,
    _state: &AppState,
    actor: &Actor,
    partner_id: &PartnerId,
    mapping: &Mapping,
    user_ids: &[UserId],
) -> OperationResult<()> {
    let Some(author) = users::get(conn, &mapping.created_by).await? else {
        return Ok(());
    };
    if !crate::ops::session::may_sign_in(&author) {
        return Ok(());
    }
    let principal = users::principal(conn, &author).await?;
    if authz::grant_role(&principal, partner_id, &mapping.role).is_err() {
        return Ok(());
    }
    let mut people = Vec::new();
    for id in user_ids {
        match scim_groups::held_grant(conn, id, &mapping.role).await? {
            Some(grant_id) => scim_groups::link(conn, &mapping.id, id, &grant_id, false).await?,
            None => people.push(users::get(conn, id).await?.ok_or(OperationError::NotFound)?),
        }
    }
    if people.is_empty() {
        return Ok(());
    }
    let granted =
        crate::ops::grants::grant_roles(conn, &principal, actor, &people, &[(mapping.role.clone(), None)]).await?;
    for g in granted {
        scim_groups::link(conn, &mapping.id, &g.grant.user_id, &g.grant.id, true).await?;
    }
    Ok(())
}

/// Takes back what a mapping gave some members (all, with `None`): a grant
/// it created goes, with History, unless another mapping still backs it.
async fn revoke_mapped(
    conn: &mut Conn,
    actor: &Actor,
    mapping: &Mapping,
    user_ids: Option<&[UserId]>,
) -> OperationResult<()> {
    for (grant_id, owned) in scim_groups::unlink(conn, &mapping.id, user_ids).await? {
        if !owned || scim_groups::hand_over(conn, &grant_id).await? {
            continue;
        }
        if let Some(grant) = grants::get(conn, &grant_id).await? {
            if grants::revoke(conn, &grant.id, &authz::mapping_takes_back(&grant.role)).await? {
                let details = crate::ops::role_details(&grant.id, &grant.role);
                history::append(conn, &grant.user_id, actor, Kind::RoleRevoked, details).await?;
            }
        }
    }
    Ok(())
}

/// A group with its mappings, as a partner admin sees it.
#[derive(Debug, Clone)]
pub struct MappedGroup {
    pub group: Group,
    pub members: usize,
    pub mappings: Vec<Mapping>,
}

/// Who may see and map a partner's groups: who may manage its SCIM tokens.
fn provisioning(caller: &Principal, state: &AppState, partner_id: &PartnerId) -> authz::Decision {
    authz::create_user(caller, &state.catalogue, partner_id)
}

/// The partner's groups with their members' count and mappings, by name.
pub async fn mapped_groups(
    state: &AppState,
    caller: &Principal,
    partner_id: &PartnerId,
) -> OperationResult<Vec<MappedGroup>> {
    provisioning(caller, state, partner_id)?;
    let mut conn = state.store.begin_read().await?;
    partners::get(&mut conn, partner_id).await?.ok_or(OperationError::NotFound)?;
    let (_, groups) = scim_groups::list(&mut conn, partner_id, None, None, 0, i64::MAX).await?;
    let ids: Vec<ScimGroupId> = groups.iter().map(|g| g.id.clone()).collect();
    let members = scim_groups::members(&mut conn, &ids).await?;
    let mut mappings = scim_groups::mappings(&mut conn, &ids).await?;
    conn.commit().await?;
    Ok(groups
        .into_iter()
        .map(|group| {
            let (mine, rest): (Vec<Mapping>, Vec<Mapping>) = mappings.drain(..).partition(|m| m.group_id == group.id);
            mappings = rest;
            let members = members.iter().filter(|m| m.group_id == group.id).count();
            MappedGroup { group, members, mappings: mine }
        })
        .collect())
}

async fn partner_group(conn: &mut Conn, partner_id: &PartnerId, group_id: &ScimGroupId) -> OperationResult<Group> {
    scim_groups::get(conn, partner_id, group_id).await?.ok_or(OperationError::NotFound)
}

/// Maps a group to a role the caller may grant, and gives it to the
/// group's members at once (the caller is the mapping's author).
pub async fn add_mapping(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    partner_id: &PartnerId,
    group_id: &ScimGroupId,
    requested: RequestedRole,
) -> OperationResult<Mapping> {
    let by = caller.person()?;
    provisioning(caller, state, partner_id)?;
    let mut tx = state.store.begin().await?;
    let group = partner_group(&mut tx, partner_id, group_id).await?;
    let role = crate::ops::grants::resolve_roles(&mut tx, &state.catalogue, std::slice::from_ref(&requested))
        .await?
        .pop()
        .ok_or(OperationError::NotFound)?;
    // The mapping grants nothing now: each use asks again what its author may grant.
    let _may_grant = authz::grant_role(caller, partner_id, &role)?;
    let mapping = scim_groups::insert_mapping(&mut tx, &group.id, &role, by)
        .await?
        .ok_or_else(|| OperationError::Conflict("the group maps to this role already".into()))?;
    history::append(&mut tx, by, actor, Kind::ScimGroupRoleMapped, mapping_details(&group, &mapping)).await?;
    let members = DesiredGroup::of(&GroupView {
        members: scim_groups::members(&mut tx, std::slice::from_ref(&group.id)).await?,
        group: group.clone(),
    })
    .members;
    grant_mapped(&mut tx, state, actor, partner_id, &mapping, &members).await?;
    tx.commit().await?;
    Ok(mapping)
}

/// Removes a mapping and the grants it gave, under the rule that grants
/// its role.
pub async fn remove_mapping(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    partner_id: &PartnerId,
    group_id: &ScimGroupId,
    mapping_id: &ScimMappingId,
) -> OperationResult<()> {
    let by = caller.person()?;
    provisioning(caller, state, partner_id)?;
    let mut tx = state.store.begin().await?;
    let group = partner_group(&mut tx, partner_id, group_id).await?;
    let mapping = scim_groups::mappings(&mut tx, std::slice::from_ref(&group.id))
        .await?
        .into_iter()
        .find(|m| m.id == *mapping_id)
        .ok_or(OperationError::NotFound)?;
    let _may_take_back = authz::grant_role(caller, partner_id, &mapping.role)?;
    revoke_mapped(&mut tx, actor, &mapping, None).await?;
    if !scim_groups::delete_mapping(&mut tx, &mapping.id).await? {
        return Err(OperationError::NotFound);
    }
    history::append(&mut tx, by, actor, Kind::ScimGroupRoleUnmapped, mapping_details(&group, &mapping)).await?;
    tx.commit().await?;
    Ok(())
}

fn mapping_details(group: &Group, mapping: &Mapping) -> Value {
    json!({
        "group_id": group.id,
        "group": group.display_name,
        "mapping_id": mapping.id,
        "application": mapping.role.application,
        "role": mapping.role.role,
        "production": mapping.role.production.map(|p| p.get()),
    })
}
