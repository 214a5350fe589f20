//! `GET /ai/chat-history`, `POST /ai/chat-message`, `DELETE /ai/chat-history`:
//! the user's chat messages (`CHAT#{timestamp}#{messageId}`, TTL 30 days;
//! expired ones are never served).

use crate::stores::ChatStore;
use expenzez_api::idempotency::{self, IdempotencyStore};
use expenzez_api::{ApiError, Ctx, Reply};
use expenzez_domain::entities::{ChatMessage, ChatRole};
use expenzez_domain::ids::{MessageId, UserId};
use expenzez_domain::Timestamp;
use serde::{Deserialize, Serialize};

/// How many of the newest messages the history shows (the app's recent window).
pub const HISTORY_WINDOW: u32 = 50;
/// Longest message we store, in characters.
pub const MAX_CONTENT_CHARS: usize = 4_000;

/// One message as the app reads it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    pub role: ChatRole,
    pub content: String,
    pub timestamp: Timestamp,
}

impl From<&ChatMessage> for MessageView {
    fn from(m: &ChatMessage) -> Self {
        Self { id: m.message_id.to_string(), role: m.role, content: m.content.clone(), timestamp: m.timestamp }
    }
}

/// A new text message of `role`, stored at `at` (expires 30 days later).
pub fn new_message(user: &UserId, role: ChatRole, content: String, at: Timestamp) -> ChatMessage {
    ChatMessage::text(MessageId::random(), user.clone(), role, content, at)
}

/// Checks a message text: not blank, at most [`MAX_CONTENT_CHARS`].
pub fn check_content(field: &str, content: &str) -> Result<String, ApiError> {
    let trimmed = content.trim();
    if trimmed.is_empty() {
        return Err(ApiError::validation(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_CONTENT_CHARS {
        return Err(ApiError::validation(field, "must be at most 4000 characters"));
    }
    Ok(trimmed.to_string())
}

#[derive(Serialize)]
struct HistoryBody {
    history: Vec<MessageView>,
}

/// The recent window, oldest first.
pub async fn history<S: ChatStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let mut messages = store.recent_chat(user, HISTORY_WINDOW).await?;
    messages.reverse();
    Reply::ok(&HistoryBody { history: messages.iter().map(MessageView::from).collect() })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewMessage {
    pub role: ClientRole,
    pub content: String,
}

/// The roles a client may store (`system` messages are ours).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientRole {
    User,
    Assistant,
}

#[derive(Serialize)]
struct MessageBody {
    message: MessageView,
}

/// `POST /ai/chat-message`. A retry with the same `Idempotency-Key` gets the
/// first answer and stores nothing twice.
pub async fn add<S: ChatStore + IdempotencyStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    idempotency::once(&store, ctx, |ctx| add_once(&store, ctx)).await
}

async fn add_once<S: ChatStore>(store: &S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let body: NewMessage = ctx.json()?;
    let content = check_content("content", &body.content)?;
    let role = match body.role {
        ClientRole::User => ChatRole::User,
        ClientRole::Assistant => ChatRole::Assistant,
    };
    let message = new_message(user, role, content, store.now());
    store.add_chat(vec![message.clone()]).await?;
    Reply::created(&MessageBody { message: MessageView::from(&message) })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeletedBody {
    success: bool,
    deleted_count: usize,
}

/// Deletes every chat message (expired ones still stored too); `deletedCount`
/// counts the ones the user could still see.
pub async fn clear<S: ChatStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let now = store.now().epoch_seconds();
    let keys = store.chat_keys(user).await?;
    let visible = keys
        .iter()
        .filter(|k| match expenzez_domain::keys::ItemKey::parse(k) {
            Some(expenzez_domain::keys::ItemKey::ChatMessage(_, at, _)) => ChatMessage::ttl_for(at) > now,
            _ => false,
        })
        .count();
    store.delete_keys(keys).await?;
    Reply::ok(&DeletedBody { success: true, deleted_count: visible })
}
