//! Posts stored column by column in a few shared buffers: the form in which readers hand
//! posts to the engine.
//!
//! A [`Post`] owns a string per field, so reading a million of them costs several million
//! allocations, and freeing them on another thread than the one that made them costs as
//! much again. A [`Batch`] keeps every string of its posts end to end in one buffer and
//! the posts as offsets into it; it is filled, handed over, and reused. Readers fill
//! batches directly; [`Batch::push`] takes a [`Post`] for everyone else. A post in a batch
//! is read as a [`PostView`], the same fields as a [`Post`], borrowed.

use crate::model::Post;

/// Where a string is in [`Batch::strings`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: usize,
    end: usize,
}

/// Where a list is in [`Batch::lists`] or [`Batch::media`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Range {
    start: usize,
    end: usize,
}

/// One post: offsets into its batch's buffers.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Row {
    pub(crate) platform: Span,
    pub(crate) account: Span,
    pub(crate) id: Span,
    pub(crate) time_ms: i64,
    pub(crate) text: Option<Span>,
    pub(crate) urls: Range,
    pub(crate) hashtags: Range,
    pub(crate) media: Range,
    pub(crate) repost_of: Option<Span>,
    pub(crate) reply_to: Option<Span>,
}

/// Posts stored column by column; see the [module documentation](self).
#[derive(Clone, Debug, Default)]
pub struct Batch {
    strings: String,
    rows: Vec<Row>,
    lists: Vec<Span>,
    media: Vec<[u8; 32]>,
    /// Idle posts, kept as their account's key alone (see [`Batch::idle_len`]): the rows
    /// before each, and the key.
    idle: Vec<(usize, u128)>,
}

/// How full a batch was, to go back to it when a row turns out bad half-way.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    strings: usize,
    lists: usize,
    media: usize,
}

impl Batch {
    /// An empty batch.
    #[must_use]
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Posts in the batch with their fields (all of them but the idle ones).
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the batch holds no post with its fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Idle posts: posts that act on nothing (every optional field read was empty), kept
    /// as the key of their account alone, which is all detection needs of them. Readers
    /// keep posts so when asked to ([`ReadOptions::idle_as_keys`]); they are not among
    /// [`Batch::iter`]'s posts.
    ///
    /// [`ReadOptions::idle_as_keys`]: crate::input::ReadOptions::idle_as_keys
    #[must_use]
    pub fn idle_len(&self) -> usize {
        self.idle.len()
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.strings.clear();
        self.rows.clear();
        self.lists.clear();
        self.media.clear();
        self.idle.clear();
    }

    /// Makes room for `posts` more posts with `bytes` more bytes of strings, so that
    /// filling the batch does not grow it step by step.
    pub fn reserve(&mut self, posts: usize, bytes: usize) {
        self.rows.reserve(posts);
        self.strings.reserve(bytes);
    }

    /// Bytes of text held (the strings of every post, end to end).
    #[must_use]
    pub fn text_bytes(&self) -> usize {
        self.strings.len()
    }

    /// Appends a copy of `post`.
    pub fn push(&mut self, post: &Post) {
        let platform = self.add_str(&post.platform);
        let account = self.add_str(&post.account);
        let id = self.add_str(&post.id);
        let text = post.text.as_deref().map(|t| self.add_str(t));
        let urls = self.add_list(&post.urls);
        let hashtags = self.add_list(&post.hashtags);
        let start = self.media.len();
        self.media.extend_from_slice(&post.media);
        let media = self.range_from_media(start);
        let repost_of = post.repost_of.as_deref().map(|t| self.add_str(t));
        let reply_to = post.reply_to.as_deref().map(|t| self.add_str(t));
        self.rows.push(Row {
            platform,
            account,
            id,
            time_ms: post.time_ms,
            text,
            urls,
            hashtags,
            media,
            repost_of,
            reply_to,
        });
    }

    /// Post `i`, if there is one.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<PostView<'_>> {
        self.rows.get(i).map(|r| self.view(r))
    }

    /// The time of post `i` (0 past the end).
    pub(crate) fn time_ms(&self, i: usize) -> i64 {
        self.rows.get(i).map_or(0, |r| r.time_ms)
    }

    /// Platform, account, id and time of post `i` (empty past the end).
    pub(crate) fn basics(&self, i: usize) -> (&str, &str, &str, i64) {
        let s = |span: Span| self.strings.get(span.start..span.end).unwrap_or_default();
        match self.rows.get(i) {
            Some(r) => (s(r.platform), s(r.account), s(r.id), r.time_ms),
            None => ("", "", "", 0),
        }
    }

    /// Post `i`, its fields read one at a time (cheaper than a [`PostView`] when few are
    /// needed).
    pub(crate) fn fields(&self, i: usize) -> Fields<'_> {
        Fields {
            batch: self,
            row: self.rows.get(i).copied().unwrap_or_default(),
        }
    }

    fn str(&self, span: Span) -> &str {
        self.strings.get(span.start..span.end).unwrap_or_default()
    }

    fn list(&self, range: Range) -> Strs<'_> {
        Strs {
            strings: &self.strings,
            spans: self.lists.get(range.start..range.end).unwrap_or_default(),
        }
    }

    /// Every post, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = PostView<'_>> + '_ {
        self.rows.iter().map(|r| self.view(r))
    }

    /// Every post as an owned [`Post`].
    #[must_use]
    pub fn to_posts(&self) -> Vec<Post> {
        self.iter().map(|p| p.to_post()).collect()
    }

    fn view(&self, r: &Row) -> PostView<'_> {
        let s = |span: Span| self.strings.get(span.start..span.end).unwrap_or_default();
        let list = |range: Range| Strs {
            strings: &self.strings,
            spans: self.lists.get(range.start..range.end).unwrap_or_default(),
        };
        PostView {
            platform: s(r.platform),
            account: s(r.account),
            id: s(r.id),
            time_ms: r.time_ms,
            text: r.text.map(s),
            urls: list(r.urls),
            hashtags: list(r.hashtags),
            media: self
                .media
                .get(r.media.start..r.media.end)
                .unwrap_or_default(),
            repost_of: r.repost_of.map(s),
            reply_to: r.reply_to.map(s),
        }
    }

    // Building, for the readers: strings and list items first, then the row that points
    // at them; a row found bad half-way is undone with `rollback`.

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            strings: self.strings.len(),
            lists: self.lists.len(),
            media: self.media.len(),
        }
    }

    pub(crate) fn rollback(&mut self, mark: Mark) {
        self.strings.truncate(mark.strings);
        self.lists.truncate(mark.lists);
        self.media.truncate(mark.media);
    }

    pub(crate) fn add_str(&mut self, s: &str) -> Span {
        let start = self.strings.len();
        self.strings.push_str(s);
        Span {
            start,
            end: self.strings.len(),
        }
    }

    fn add_list<S: AsRef<str>>(&mut self, items: &[S]) -> Range {
        let start = self.lists.len();
        for item in items {
            self.add_item(item.as_ref());
        }
        self.range_from_lists(start)
    }

    /// Appends one element of the list being built.
    pub(crate) fn add_item(&mut self, s: &str) {
        let span = self.add_str(s);
        self.lists.push(span);
    }

    /// Where the next list element will go.
    pub(crate) fn lists_len(&self) -> usize {
        self.lists.len()
    }

    /// The list of the elements added since `start`.
    pub(crate) fn range_from_lists(&self, start: usize) -> Range {
        Range {
            start,
            end: self.lists.len(),
        }
    }

    /// Where the next hash will go.
    pub(crate) fn media_len(&self) -> usize {
        self.media.len()
    }

    pub(crate) fn add_media(&mut self, hash: [u8; 32]) {
        self.media.push(hash);
    }

    /// The hashes added since `start`.
    pub(crate) fn range_from_media(&self, start: usize) -> Range {
        Range {
            start,
            end: self.media.len(),
        }
    }

    pub(crate) fn add_row(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// Appends an idle post of the account of key `account` (see [`Batch::idle_len`]).
    pub(crate) fn add_idle(&mut self, account: u128) {
        self.idle.push((self.rows.len(), account));
    }

    /// The idle posts, in order: for each, the posts with fields before it and its
    /// account's key.
    pub(crate) fn idle(&self) -> &[(usize, u128)] {
        &self.idle
    }
}

/// One post of a [`Batch`], each field read on demand.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    batch: &'a Batch,
    row: Row,
}

impl<'a> Fields<'a> {
    pub(crate) fn platform(&self) -> &'a str {
        self.batch.str(self.row.platform)
    }

    pub(crate) fn account(&self) -> &'a str {
        self.batch.str(self.row.account)
    }

    pub(crate) fn text(&self) -> Option<&'a str> {
        self.row.text.map(|s| self.batch.str(s))
    }

    pub(crate) fn urls(&self) -> Strs<'a> {
        self.batch.list(self.row.urls)
    }

    pub(crate) fn hashtags(&self) -> Strs<'a> {
        self.batch.list(self.row.hashtags)
    }

    pub(crate) fn media(&self) -> &'a [[u8; 32]] {
        let r = self.row.media;
        self.batch.media.get(r.start..r.end).unwrap_or_default()
    }

    pub(crate) fn is_repost(&self) -> bool {
        self.row.repost_of.is_some()
    }

    pub(crate) fn repost_of(&self) -> Option<&'a str> {
        self.row.repost_of.map(|s| self.batch.str(s))
    }

    pub(crate) fn reply_to(&self) -> Option<&'a str> {
        self.row.reply_to.map(|s| self.batch.str(s))
    }
}

/// One post of a [`Batch`], borrowed: the fields of a [`Post`].
#[derive(Clone, Copy, Debug)]
pub struct PostView<'a> {
    /// See [`Post::platform`].
    pub platform: &'a str,
    /// See [`Post::account`].
    pub account: &'a str,
    /// See [`Post::id`].
    pub id: &'a str,
    /// See [`Post::time_ms`].
    pub time_ms: i64,
    /// See [`Post::text`].
    pub text: Option<&'a str>,
    /// See [`Post::urls`].
    pub urls: Strs<'a>,
    /// See [`Post::hashtags`].
    pub hashtags: Strs<'a>,
    /// See [`Post::media`].
    pub media: &'a [[u8; 32]],
    /// See [`Post::repost_of`].
    pub repost_of: Option<&'a str>,
    /// See [`Post::reply_to`].
    pub reply_to: Option<&'a str>,
}

impl PostView<'_> {
    /// The post, owned.
    #[must_use]
    pub fn to_post(&self) -> Post {
        Post {
            platform: self.platform.to_owned(),
            account: self.account.to_owned(),
            id: self.id.to_owned(),
            time_ms: self.time_ms,
            text: self.text.map(str::to_owned),
            urls: self.urls.map(str::to_owned).collect(),
            hashtags: self.hashtags.map(str::to_owned).collect(),
            media: self.media.to_vec(),
            repost_of: self.repost_of.map(str::to_owned),
            reply_to: self.reply_to.map(str::to_owned),
        }
    }
}

/// A list of strings of a post in a [`Batch`] (its links or hashtags).
#[derive(Clone, Copy, Debug)]
pub struct Strs<'a> {
    strings: &'a str,
    spans: &'a [Span],
}

impl<'a> Iterator for Strs<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (first, rest) = self.spans.split_first()?;
        self.spans = rest;
        Some(self.strings.get(first.start..first.end).unwrap_or_default())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.spans.len(), Some(self.spans.len()))
    }
}

impl ExactSizeIterator for Strs<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_comes_back_as_it_went_in() {
        let full = Post {
            platform: "x".into(),
            account: "a1".into(),
            id: "p1".into(),
            time_ms: 1_700_000_000_123,
            text: Some("Vote early, vote often".into()),
            urls: vec!["https://a.example/1".into(), "https://b.example/2".into()],
            hashtags: vec!["#one".into(), "two".into()],
            media: vec![[7; 32], [9; 32]],
            repost_of: Some(" ".into()),
            reply_to: Some("p0".into()),
        };
        let bare = Post {
            platform: "telegram".into(),
            account: "b".into(),
            id: "q".into(),
            time_ms: -5,
            ..Post::default()
        };
        let mut b = Batch::new();
        b.push(&full);
        b.push(&bare);
        b.push(&full);
        assert_eq!(b.len(), 3);
        assert_eq!(b.to_posts(), vec![full.clone(), bare.clone(), full.clone()]);
        assert_eq!(b.get(1).map(|v| v.to_post()), Some(bare));
        assert!(b.get(3).is_none());
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.text_bytes(), 0);
    }

    #[test]
    fn a_rolled_back_row_leaves_no_trace() {
        let mut b = Batch::new();
        let mark = b.mark();
        b.add_str("half");
        b.add_item("https://x.example");
        b.add_media([1; 32]);
        b.rollback(mark);
        let p = Post {
            platform: "x".into(),
            account: "a".into(),
            id: "1".into(),
            ..Post::default()
        };
        b.push(&p);
        assert_eq!(b.to_posts(), vec![p]);
        assert_eq!(b.text_bytes(), 3);
    }
}
