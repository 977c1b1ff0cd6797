import Foundation
import SlipwayConfig

/// A notification channel with its URL read from where the configuration says it is.
public struct ResolvedChannel: Sendable {
    /// The channel as configured.
    public let spec: NotificationChannelSpec
    /// The URL to post to. A secret: never log it; use ``redactedURL``.
    let url: SecretText

    /// The channel's name.
    public var name: String { spec.name }
    /// The URL with its scheme and host only, for messages: `https://hooks.slack.com/…`.
    public var redactedURL: String { Redaction.url(url.value) }

    /// Pairs `spec` with its URL, which must be an absolute http or https URL (checked by ``resolve(_:environment:)``
    /// but not here).
    public init(spec: NotificationChannelSpec, url: SecretText) {
        self.spec = spec
        self.url = url
    }

    /// Reads the URL of `spec` (see ``SecretResolver/url(_:environment:)``); the error names the variable or file
    /// and the key path, never the value.
    public static func resolve(
        _ spec: NotificationChannelSpec,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ChannelResolutionError) -> ResolvedChannel {
        do {
            return ResolvedChannel(
                spec: spec,
                url: SecretText(try SecretResolver.url(spec.url, environment: environment))
            )
        } catch {
            throw ChannelResolutionError(spec, error)
        }
    }
}

/// Why a channel's URL could not be read. The message names the channel, its key path and the variable or file,
/// never the value.
public struct ChannelResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public typealias Problem = SecretProblem

    /// The channel's name.
    public var channel: String
    /// The key path of the channel's URL, like `notifications[0].slack.url`.
    public var keyPath: String
    /// What went wrong.
    public var problem: Problem

    /// Creates the error for the channel `spec`.
    public init(_ spec: NotificationChannelSpec, _ problem: Problem) {
        self.channel = spec.name
        self.keyPath = spec.urlKeyPath
        self.problem = problem
    }

    /// `notifications[0].slack.url: the environment variable SLACK_URL is not set (channel team-slack)`.
    public var description: String {
        "\(keyPath): \(problem) (channel \(channel))"
    }
}
