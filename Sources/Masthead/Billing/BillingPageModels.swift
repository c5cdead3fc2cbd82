/// The plans page: a card per plan with the price in the chosen currency, and free membership.
struct PlansPageModel {
    struct Plan {
        let name: String
        let description: String
        let price: String
        let interval: String
        let trial: String?
        /// "get" to the sign-in step for a reader not signed in, "post" straight to checkout.
        let method: String
        let action: String
        let hidden: [FormPageModel.Hidden]
        let label: String
    }

    struct Free {
        let title: String
        let text: String
        let action: String
        let hidden: [FormPageModel.Hidden]
        let emailLabel: String
        let nameLabel: String
        let hint: String
        let submitLabel: String
    }

    let layout: LayoutModel
    let title: String
    let intro: String
    /// Test mode, or that paid membership is not open yet.
    let notice: String?
    let alreadyPaid: FormPageModel.Link?
    let plans: [Plan]
    let currencies: [LayoutModel.Link]
    let free: Free?
    let signIn: FormPageModel.Link?
    let gift: FormPageModel.Link?
    /// Templates see stored properties only.
    let hasPlans: Bool
    let hasCurrencies: Bool

    init(layout: LayoutModel, title: String, intro: String, notice: String?, alreadyPaid: FormPageModel.Link?, plans: [Plan], currencies: [LayoutModel.Link], free: Free?, signIn: FormPageModel.Link?, gift: FormPageModel.Link?) {
        self.layout = layout
        self.title = title
        self.intro = intro
        self.notice = notice
        self.alreadyPaid = alreadyPaid
        self.plans = plans
        self.currencies = currencies
        self.free = free
        self.signIn = signIn
        self.gift = gift
        self.hasPlans = !plans.isEmpty
        self.hasCurrencies = !currencies.isEmpty
    }
}

/// A billing page with facts and buttons: test mode's checkout and portal.
struct BillingPageModel {
    struct Detail {
        let term: String
        let value: String
    }

    struct Action {
        let action: String
        let csrf: String
        let fields: [FormPageModel.Hidden]
        let label: String
        let primary: Bool
    }

    let layout: LayoutModel
    let title: String
    let notice: String?
    let error: String?
    let details: [Detail]
    let actions: [Action]
    let links: [FormPageModel.Link]
    let hasDetails: Bool

    init(layout: LayoutModel, title: String, notice: String?, error: String?, details: [Detail], actions: [Action], links: [FormPageModel.Link]) {
        self.layout = layout
        self.title = title
        self.notice = notice
        self.error = error
        self.details = details
        self.actions = actions
        self.links = links
        self.hasDetails = !details.isEmpty
    }
}
