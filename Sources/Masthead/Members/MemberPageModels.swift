/// A page with one form: sign in, join, confirm a link.
struct FormPageModel {
    struct Field {
        let label: String
        let name: String
        let type: String
        let autocomplete: String
        let value: String
        let required: Bool
        let hint: String?
        /// A paragraph rather than a line: a textarea.
        var multiline = false
    }

    struct Hidden {
        let name: String
        let value: String
    }

    struct Link {
        let label: String
        let url: String
    }

    let layout: LayoutModel
    let title: String
    let intro: [String]
    let error: String?
    let action: String
    let fields: [Field]
    let hidden: [Hidden]
    let submitLabel: String
    let links: [Link]
}

/// A page that tells the reader what happened: email sent, link expired, account deleted.
struct MessagePageModel {
    let layout: LayoutModel
    let title: String
    let paragraphs: [String]
    let link: FormPageModel.Link?
}

struct AccountPageModel {
    struct Action {
        let action: String
        let label: String
        let description: String
        let danger: Bool
    }

    let layout: LayoutModel
    let title: String
    let email: String
    let name: String?
    let plan: String
    let status: String?
    let dateLabel: String?
    let date: String?
    let upgrade: FormPageModel.Link?
    let upgradeText: String?
    let csrf: String
    let actions: [Action]
    let newsletters: [NewsletterChoice]
    let hasNewsletters: Bool
    let newslettersAction: String
    let newslettersSaved: Bool

    struct NewsletterChoice {
        let slug: String
        let name: String
        let description: String
        let lang: String
        let checked: Bool
    }
}
