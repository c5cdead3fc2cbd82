import Foundation
import Vapor

/// The article editor's form as the browser posts it (multipart, for the image), and its
/// translation into an `ArticleDraft` and an action.
struct EditorForm: Content {
    var title: String?
    var dek: String?
    var slug: String?
    var edition: String?
    var kind: String?
    var visibility: String?
    var body: String?
    var authors: [String]?
    var topics: [String]?
    var newTopics: String?
    var newTopicNames: [String]?
    var newTopicKind: String?
    var image: File?
    var imagePath: String?
    var imageWidth: String?
    var imageHeight: String?
    var removeImage: String?
    var imageAlt: String?
    var imageCaption: String?
    var imageCredit: String?
    var seoTitle: String?
    var seoDescription: String?
    var scheduleAt: String?
    var baseRevision: String?
    var action: String?

    enum Intent: Equatable {
        case preview
        case save(ArticleEditor.Action)
    }

    /// The button pressed, with the schedule read in the newsroom's time zone.
    func intent(clock: AdminClock) throws -> Intent {
        switch action ?? "save" {
        case "preview": return .preview
        case "save": return .save(.save)
        case "publish": return .save(.publish)
        case "unpublish": return .save(.unpublish)
        case "schedule":
            guard let date = clock.parseLocalInput(scheduleAt ?? "") else {
                throw EditorialError.invalid(["scheduleAt": "Give a date and time (\(clock.zoneName)) to schedule for."])
            }
            return .save(.schedule(date))
        default:
            throw EditorialError.invalid(["action": "That button is not known."])
        }
    }

    /// The draft the form describes, and what is wrong with the form itself. A newly chosen
    /// image is stored first (content-addressed, so storing one that is then not saved costs a
    /// file and nothing else); a refused one leaves the draft's image as it was.
    func draft(defaultEdition: String, media: MediaLibrary) -> (ArticleDraft, problems: [String: String]) {
        var problems: [String: String] = [:]
        var image: ArticleDraft.Image?
        if let path = imagePath, MediaFileName.isValid(path), removeImage == nil {
            image = .init(path: path, width: Int(imageWidth ?? "") ?? 0, height: Int(imageHeight ?? "") ?? 0)
        }
        if let file = self.image, file.data.readableBytes > 0 {
            do {
                image = try media.store(Data(buffer: file.data))
            } catch let problem as MediaLibrary.Problem {
                problems["image"] = problem.description
            } catch {
                problems["image"] = "The image could not be stored; try again."
            }
        }
        let kind = ArticleKind(rawValue: self.kind ?? "")
        let visibility = Visibility(rawValue: self.visibility ?? "")
        if kind == nil { problems["kind"] = "Choose what kind of piece this is." }
        if visibility == nil { problems["visibility"] = "Choose who may read the full text." }
        let draft = ArticleDraft(
            title: title ?? "", dek: dek ?? "", slug: slug ?? "", edition: edition ?? defaultEdition,
            kind: kind ?? .news, visibility: visibility ?? .paid, body: body ?? "",
            authorIDs: (authors ?? []).compactMap(UUID.init(uuidString:)),
            topicIDs: (topics ?? []).compactMap(UUID.init(uuidString:)),
            image: image, imageAlt: imageAlt ?? "", imageCaption: imageCaption ?? "", imageCredit: imageCredit ?? "",
            seoTitle: seoTitle ?? "", seoDescription: seoDescription ?? ""
        )
        return (draft, problems)
    }

    var topicsToCreate: [ArticleEditor.NewTopic] {
        let kind = TopicKind(rawValue: newTopicKind ?? "") ?? .theme
        let typed = (newTopics ?? "").split(separator: ",").map(String.init)
        return (typed + (newTopicNames ?? [])).map { .init(name: $0, kind: kind) }
    }
}
