import Foundation
import Yams

/// Reads the credentials of one context of a kubeconfig file, as kubectl does: the context's cluster (`server`,
/// `certificate-authority` or `certificate-authority-data`) and user (`token`, `tokenFile`, or
/// `client-certificate`/`client-key`, each as a file or as `-data`). Relative file paths are the file's folder's.
/// An `exec` credential plugin or an `auth-provider` is refused with what to do instead.
public enum Kubeconfig {
    /// The credentials of `context` (the file's `current-context` when nil) in the file at `path`.
    public static func credentials(
        file path: String,
        context: String? = nil
    ) throws(KubeconfigError)
        -> KubernetesCredentials
    {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubeconfigError(file: path, key: nil, "cannot be read: \(error.localizedDescription)")
        }
        return try credentials(text: text, file: path, context: context)
    }

    /// The credentials of `context` in `text`, a kubeconfig read from `file`.
    public static func credentials(
        text: String,
        file: String,
        context: String? = nil
    ) throws(KubeconfigError)
        -> KubernetesCredentials
    {
        let document: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else {
                throw KubeconfigError(
                    file: file,
                    key: nil,
                    "is not a kubeconfig (a mapping with clusters, users, contexts)"
                )
            }
            document = loaded
        } catch let error as KubeconfigError {
            throw error
        } catch {
            throw KubeconfigError(file: file, key: nil, "is not valid YAML: \(error)")
        }
        let folder = (file as NSString).deletingLastPathComponent
        guard let name = context ?? (document["current-context"] as? String), !name.isEmpty else {
            throw KubeconfigError(file: file, key: "current-context", "is not set; name a context")
        }
        let contextEntry = try entry(named: name, in: document, list: "contexts", field: "context", file: file)
        guard let clusterName = contextEntry["cluster"] as? String else {
            throw KubeconfigError(file: file, key: "contexts[\(name)].context.cluster", "is missing")
        }
        let cluster = try entry(named: clusterName, in: document, list: "clusters", field: "cluster", file: file)
        guard let server = cluster["server"] as? String, server.hasPrefix("https://") || server.hasPrefix("http://")
        else {
            throw KubeconfigError(
                file: file,
                key: "clusters[\(clusterName)].cluster.server",
                "expected an https:// URL"
            )
        }
        var credentials = KubernetesCredentials(
            server: server.hasSuffix("/") ? String(server.dropLast()) : server,
            origin: "kubeconfig \(file), context \(name)"
        )
        credentials.certificateAuthority = try pem(
            cluster,
            "certificate-authority",
            key: "clusters[\(clusterName)].cluster",
            folder: folder,
            file: file
        )
        guard let userName = contextEntry["user"] as? String else { return credentials }
        let user = try entry(named: userName, in: document, list: "users", field: "user", file: file)
        let userKey = "users[\(userName)].user"
        if user["exec"] != nil || user["auth-provider"] != nil {
            throw KubeconfigError(
                file: file,
                key: userKey + (user["exec"] != nil ? ".exec" : ".auth-provider"),
                "credential plugins are not run by Slipway; give the user a token (`kubectl create token NAME`) "
                    + "or a client certificate"
            )
        }
        if let token = user["token"] as? String {
            credentials.token = token
        } else if let tokenFile = user["tokenFile"] as? String {
            credentials.token = try read(tokenFile, folder: folder, key: userKey + ".tokenFile", file: file)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        credentials.clientCertificate = try pem(user, "client-certificate", key: userKey, folder: folder, file: file)
        credentials.clientKey = try pem(user, "client-key", key: userKey, folder: folder, file: file)
        if (credentials.clientCertificate == nil) != (credentials.clientKey == nil) {
            throw KubeconfigError(
                file: file,
                key: userKey,
                "a client certificate needs its key, and a key its certificate"
            )
        }
        return credentials
    }

    private static func entry(
        named name: String,
        in document: [String: Any],
        list: String,
        field: String,
        file: String
    ) throws(KubeconfigError) -> [String: Any] {
        let entries = document[list] as? [[String: Any]] ?? []
        guard let found = entries.first(where: { $0["name"] as? String == name }) else {
            let known = entries.compactMap { $0["name"] as? String }
            throw KubeconfigError(
                file: file,
                key: list,
                "has no entry named \"\(name)\"" + (known.isEmpty ? "" : " (\(known.joined(separator: ", ")))")
            )
        }
        guard let value = found[field] as? [String: Any] else {
            throw KubeconfigError(file: file, key: "\(list)[\(name)].\(field)", "is missing")
        }
        return value
    }

    /// `name` as a file or `name-data` (base64) in `mapping`.
    private static func pem(
        _ mapping: [String: Any],
        _ name: String,
        key: String,
        folder: String,
        file: String
    ) throws(KubeconfigError) -> String? {
        if let data = mapping[name + "-data"] as? String {
            guard let decoded = Data(base64Encoded: data, options: .ignoreUnknownCharacters),
                let text = String(data: decoded, encoding: .utf8)
            else {
                throw KubeconfigError(file: file, key: "\(key).\(name)-data", "expected base64 of a PEM file")
            }
            return text
        }
        guard let path = mapping[name] as? String else { return nil }
        return try read(path, folder: folder, key: "\(key).\(name)", file: file)
    }

    private static func read(
        _ path: String,
        folder: String,
        key: String,
        file: String
    ) throws(KubeconfigError)
        -> String
    {
        let full = path.hasPrefix("/") ? path : folder + "/" + path
        guard let text = try? String(contentsOfFile: full, encoding: .utf8) else {
            throw KubeconfigError(file: file, key: key, "\(full) cannot be read")
        }
        return text
    }
}

/// A kubeconfig that cannot be used: the file, the key path, and what is wrong.
public struct KubeconfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The key path (`users[ci].user.exec`), when one is at fault.
    public var key: String?
    /// What is wrong, and what would do.
    public var message: String

    init(file: String, key: String?, _ message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String { "\(file): " + (key.map { "\($0): " } ?? "") + message }
}
