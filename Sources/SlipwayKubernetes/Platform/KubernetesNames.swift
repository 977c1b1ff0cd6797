import Crypto
import Foundation

/// The names and labels Slipway gives what it owns in a namespace. Everything it creates carries
/// ``managedBy`` and ``appLabel``; a release's objects also carry ``versionLabel``; a pod it took as an instance
/// carries ``instanceLabel``. Nothing without those labels is ever touched.
public enum KubernetesNames {
    /// `app.kubernetes.io/managed-by: slipway`.
    public static let managedByLabel = "app.kubernetes.io/managed-by"
    /// The value of ``managedByLabel``.
    public static let managedBy = "slipway"
    /// `app.kubernetes.io/name`: the app's name as written in `apps`.
    public static let nameLabel = "app.kubernetes.io/name"
    /// The app as Slipway names it (`shop`, or `shop.prod` for `shop@prod`).
    public static let appLabel = "slipway.dev/app"
    /// The release, as a label value (see ``labelValue(_:)``); the exact version is in ``versionAnnotation``.
    public static let versionLabel = "slipway.dev/version"
    /// The rollout that started the release's object, when one did.
    public static let rolloutLabel = "slipway.dev/rollout"
    /// The instance number a pod serves as, once Slipway took it.
    public static let instanceLabel = "slipway.dev/instance"
    /// The exact app name (`shop@prod`).
    public static let appAnnotation = "slipway.dev/app"
    /// The exact version.
    public static let versionAnnotation = "slipway.dev/version"
    /// The readiness gate of every pod Slipway runs: a pod serves once Slipway has taken it as an instance, and
    /// stops serving before it is removed.
    public static let servingCondition = "slipway.dev/serving"
    /// How much a pod is worth keeping when its Deployment scales down (Kubernetes 1.22 and later).
    public static let deletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

    /// `text` as a label value: at most 63 characters of letters, digits, `-`, `_` and `.`, starting and ending
    /// with a letter or digit. Other characters become `.`, and a text that had to change, or is too long, ends with
    /// a hash of the original so that two texts never share a value.
    public static func labelValue(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        var value = String(text.map { allowed.contains($0) ? $0 : "." })
        guard value != text || value.count > 63 || !edgesAreAlphanumeric(value) else { return value }
        value = String(value.prefix(50)).trimmingCharacters(in: CharacterSet.alphanumerics.inverted)
        return (value.isEmpty ? "" : value + "-") + hash(text)
    }

    /// The name of the Deployment (and Service) of `version` of `app`: a DNS label of lowercase letters, digits
    /// and `-`, short enough for the names Kubernetes derives from it (its ReplicaSets and pods add 17 characters).
    public static func releaseName(app: String, version: String) -> String {
        let text = "\(app)-\(version)"
        var name = String(text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
        let fits = name == text && name.count <= 46 && edgesAreAlphanumeric(name)
        guard !fits else { return name }
        name = String(name.prefix(37)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return name + "-" + hash(text)
    }

    /// The name of the Lease that says which controller manages `app`.
    public static func leaseName(app: String) -> String {
        "slipway-" + releaseName(app: app, version: "controller")
    }

    /// The label selector of `app`'s objects, or of one of its releases.
    public static func selector(app: String, version: String? = nil) -> String {
        var parts = ["\(managedByLabel)=\(managedBy)", "\(appLabel)=\(labelValue(appLabelText(app)))"]
        if let version { parts.append("\(versionLabel)=\(labelValue(version))") }
        return parts.joined(separator: ",")
    }

    /// The labels of `app`'s release `version` (the Deployment's selector among them).
    public static func labels(app: String, baseName: String, version: String) -> [String: String] {
        [
            managedByLabel: managedBy,
            nameLabel: labelValue(baseName),
            appLabel: labelValue(appLabelText(app)),
            versionLabel: labelValue(version),
        ]
    }

    /// The selector labels of a release: the labels that tell its pods from every other pod.
    public static func selectorLabels(app: String, version: String) -> [String: String] {
        [
            managedByLabel: managedBy,
            appLabel: labelValue(appLabelText(app)),
            versionLabel: labelValue(version),
        ]
    }

    /// The value of ``appLabel`` for `app`.
    public static func appLabelValue(_ app: String) -> String {
        labelValue(appLabelText(app))
    }

    /// `shop@prod` as `shop.prod`: `@` is not allowed in a label.
    private static func appLabelText(_ app: String) -> String {
        app.replacingOccurrences(of: "@", with: ".")
    }

    private static func edgesAreAlphanumeric(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last else { return false }
        return first.isASCII && (first.isLetter || first.isNumber) && last.isASCII && (last.isLetter || last.isNumber)
    }

    /// Eight hex digits of the SHA-256 of `text`.
    private static func hash(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }
}
