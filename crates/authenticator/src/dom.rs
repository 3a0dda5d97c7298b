//! Tiny element builders used by every screen: `el("p").class("x").text("…")`,
//! labelled inputs, buttons, alerts, status lines and progress bars. DOM calls on
//! elements we just created cannot meaningfully fail, so their results are ignored.

use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlButtonElement, HtmlElement, HtmlInputElement, Node};

/// The page's document. The UI only runs in a window, where this always exists.
pub fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("the authenticator runs in a window with a document")
}

/// A new element, wrapped for chained building.
pub fn el(tag: &str) -> El {
    El(document()
        .create_element(tag)
        .expect("valid tag names only"))
}

/// An element under construction.
pub struct El(pub Element);

impl El {
    /// Sets an attribute.
    pub fn attr(self, name: &str, value: &str) -> Self {
        let _ = self.0.set_attribute(name, value);
        self
    }

    /// Sets the class list.
    pub fn class(self, class: &str) -> Self {
        self.0.set_class_name(class);
        self
    }

    /// Sets the text content.
    pub fn text(self, text: &str) -> Self {
        self.0.set_text_content(Some(text));
        self
    }

    /// Appends a child.
    pub fn child(self, child: impl AsRef<Node>) -> Self {
        let _ = self.0.append_child(child.as_ref());
        self
    }

    /// Appends children.
    pub fn children<N: AsRef<Node>>(self, children: impl IntoIterator<Item = N>) -> Self {
        for c in children {
            let _ = self.0.append_child(c.as_ref());
        }
        self
    }

    /// The element.
    pub fn done(self) -> Element {
        self.0
    }

    /// The element as a specific type (the tag decides it).
    pub fn cast<T: JsCast>(self) -> T {
        self.0.unchecked_into()
    }
}

impl AsRef<Node> for El {
    fn as_ref(&self) -> &Node {
        &self.0
    }
}

/// A heading that takes focus when its screen appears.
pub fn heading(level: u8, text: &str) -> Element {
    el(&format!("h{}", level.clamp(1, 6)))
        .attr("tabindex", "-1")
        .class("screen-heading")
        .text(text)
        .done()
}

/// A paragraph.
pub fn para(text: &str) -> Element {
    el("p").text(text).done()
}

/// A button; `primary` gives it the main-action look.
pub fn button(text: &str, primary: bool) -> HtmlButtonElement {
    el("button")
        .attr("type", "button")
        .class(if primary { "btn primary" } else { "btn" })
        .text(text)
        .cast()
}

/// A link.
pub fn link(text: &str, href: &str) -> Element {
    el("a").attr("href", href).text(text).done()
}

/// A labelled input (`<label for>`): returns the field wrapper and the input.
/// `kind` is the input type; `autocomplete` its autocomplete token.
pub fn field(id: &str, label: &str, kind: &str, autocomplete: &str) -> (Element, HtmlInputElement) {
    let input: HtmlInputElement = el("input")
        .attr("id", id)
        .attr("name", id)
        .attr("type", kind)
        .attr("autocomplete", autocomplete)
        .attr("spellcheck", "false")
        .attr("autocapitalize", "off")
        .cast();
    (labelled(id, label, &input), input)
}

/// A `div.field` holding a `<label for=id>` and its control.
fn labelled(id: &str, label: &str, control: &Element) -> Element {
    el("div")
        .class("field")
        .child(el("label").attr("for", id).text(label))
        .child(control)
        .done()
}

/// A labelled multi-line text box.
pub fn text_area(id: &str, label: &str) -> (Element, web_sys::HtmlTextAreaElement) {
    let area: web_sys::HtmlTextAreaElement = el("textarea")
        .attr("id", id)
        .attr("rows", "3")
        .attr("autocomplete", "off")
        .attr("spellcheck", "false")
        .attr("autocapitalize", "off")
        .cast();
    (labelled(id, label, &area), area)
}

/// An (initially empty) alert region; fill it with [`say`].
pub fn alert_region() -> Element {
    el("div").attr("role", "alert").class("alert").done()
}

/// A polite status line.
pub fn status_line(text: &str) -> Element {
    el("p")
        .attr("role", "status")
        .class("status")
        .text(text)
        .done()
}

/// Sets an element's text (empty hides alert styling through CSS `:empty`).
pub fn say(target: &Element, text: &str) {
    target.set_text_content(Some(text));
}

/// An indeterminate progress bar named `label` (role progressbar).
pub fn progress(label: &str) -> Element {
    el("div")
        .class("progress")
        .child(el("progress").attr("aria-label", label))
        .child(el("span").text(&format!("{label}…")))
        .done()
}

/// Removes all children of `node`.
pub fn clear(node: &Element) {
    node.set_text_content(None);
}

/// Disables or enables a button.
pub fn busy(button: &HtmlButtonElement, on: bool) {
    button.set_disabled(on);
}

/// Moves keyboard focus to `el`.
pub fn focus(el: &Element) {
    if let Some(h) = el.dyn_ref::<HtmlElement>() {
        let _ = h.focus();
    }
}

/// A visually grouped set of action buttons.
pub fn actions<N: AsRef<Node>>(items: impl IntoIterator<Item = N>) -> Element {
    el("div").class("actions").children(items).done()
}
