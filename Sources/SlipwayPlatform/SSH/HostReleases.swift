import Foundation
import SlipwayCore
import Synchronization

/// Puts releases shipped as a file (`run.artifact`) on one host, each in a folder of its own:
/// `<directory>/releases/<app>/<version>/`.
///
/// The file is checksummed here (once per file: the sum is kept while its size and time are the same), sent over the
/// host's SSH connection into a temporary folder there, checked against its SHA-256, unpacked when it is a tar
/// archive (`.tar.gz`, `.tgz`, `.tar`; any other file is kept as it is, executable), and only then moved into place,
/// with a `.slipway-release` file holding the sum. A folder already there with the same sum is left alone, so a
/// second instance of a version, or a rollback to it, sends nothing. A folder with another sum (the same version
/// built again) is replaced.
///
/// Each time one is placed, the app's older releases go, but for the newest ``kept`` and those that instances run.
/// Instances of one version starting at once on the host share one shipment.
public final class HostReleases: Sendable {
    /// How many releases of an app stay on a host, newest first, besides those that instances run.
    public static let kept = 5
    /// How long a shipment may take.
    static let timeout: Duration = .seconds(300)
    /// Lines the scripts print start with this, so that nothing else a host prints is taken for an answer.
    static let marker = "slipway-release:"

    /// The host's connection.
    public let client: SSHClient
    private let shipments = Mutex<[String: Task<Result<String, LaunchError>, Never>]>([:])

    /// Releases on `client`'s host.
    public init(client: SSHClient) {
        self.client = client
    }

    /// The folder of `app`'s releases on a host whose Slipway folder is `directory`.
    public static func folder(directory: String, app: String) -> String {
        directory + "/releases/" + app
    }

    /// The folder `version` of `app` is unpacked in on this host.
    public func folder(app: String, version: String) -> String {
        Self.folder(directory: client.host.directory, app: app) + "/" + version
    }

    /// Makes sure `version` of `app` is unpacked on the host from the local file `artifact`, for `instance` (the
    /// shipment is recorded as its command), and returns its folder there; `running` are the versions whose releases
    /// must stay.
    public func ensure(
        app: String,
        version: String,
        artifact: String,
        for instance: InstanceID,
        running: Set<String>
    ) async throws(LaunchError) -> String {
        let key = app + "/" + version
        let task = shipments.withLock { shipments in
            if let task = shipments[key] { return task }
            let task = Task {
                await self.ship(app: app, version: version, artifact: artifact, instance: instance, running: running)
            }
            shipments[key] = task
            return task
        }
        let result = await task.value
        shipments.withLock { if $0[key] == task { $0[key] = nil } }
        return try result.get()
    }

    private func ship(
        app: String,
        version: String,
        artifact: String,
        instance: InstanceID,
        running: Set<String>
    ) async -> Result<String, LaunchError> {
        let folder = folder(app: app, version: version)
        let file: HostBinary
        do {
            file = try await ArtifactSums.shared.sum(of: artifact)
        } catch {
            return .failure(error)
        }
        let look = await client.run(["cat", folder + "/.slipway-release"])
        if look.succeeded, look.output.trimmingCharacters(in: .whitespacesAndNewlines) == file.sha256 {
            return .success(folder)
        }
        let script = """
            dir="$1"; version="$2"; name="$3"; sum="$4"; kind="$5"; keep="$6"; shift 6
            mkdir -p "$dir" || exit 3
            tmp="$dir/.upload-$version.$$"
            rm -rf "$tmp" && mkdir "$tmp" || exit 3
            cat > "$tmp/.artifact" || { rm -rf "$tmp"; exit 3; }
            got=$(sha256sum < "$tmp/.artifact" | cut -d ' ' -f 1)
            if [ "$got" != "$sum" ]; then rm -rf "$tmp"; echo "\(Self.marker)mismatch $got"; exit 4; fi
            case "$kind" in
              tar.gz) tar -xzf "$tmp/.artifact" -C "$tmp" 2>&1 || { rm -rf "$tmp"; echo "\(Self.marker)unpack"; exit 5; }
                      rm -f "$tmp/.artifact" ;;
              tar) tar -xf "$tmp/.artifact" -C "$tmp" 2>&1 || { rm -rf "$tmp"; echo "\(Self.marker)unpack"; exit 5; }
                   rm -f "$tmp/.artifact" ;;
              *) mv "$tmp/.artifact" "$tmp/$name" && chmod 755 "$tmp/$name" || { rm -rf "$tmp"; exit 3; } ;;
            esac
            echo "$sum" > "$tmp/.slipway-release" || { rm -rf "$tmp"; exit 3; }
            old="$dir/.old-$version.$$"
            if [ -e "$dir/$version" ]; then mv "$dir/$version" "$old" || { rm -rf "$tmp"; exit 3; }; fi
            mv "$tmp" "$dir/$version" || exit 3
            rm -rf "$old"
            echo "\(Self.marker)placed $sum"
            n=0
            for release in $(ls -1t "$dir"); do
              n=$((n + 1))
              [ "$n" -le "$keep" ] && continue
              wanted=no
              for running in "$@"; do [ "$release" = "$running" ] && wanted=yes; done
              [ "$wanted" = yes ] && continue
              rm -rf "${dir:?}/$release" && echo "\(Self.marker)removed $release"
            done
            exit 0
            """
        let directory = Self.folder(directory: client.host.directory, app: app)
        let name = (artifact as NSString).lastPathComponent
        let shipped = await client.change(
            "shipRelease",
            instance: instance,
            words: [folder, "sha256:\(file.sha256)", "from \(artifact)"],
            ["sh", "-c", script, "slipway-release", directory, version, name, file.sha256, Self.kind(of: name)]
                + [String(Self.kept)] + running.union([version]).sorted(),
            timeout: Self.timeout,
            input: artifact
        )
        let answers = MarkedAnswers(shipped.output, marker: Self.marker)
        guard shipped.succeeded, answers.first("placed") == file.sha256 else {
            if let arrived = answers.first("mismatch") {
                return .failure(
                    .release("\(artifact) arrived on \(client.host.name) with SHA-256 \(arrived), not \(file.sha256)")
                )
            }
            if answers.first("unpack") != nil {
                return .failure(.release("\(artifact) could not be unpacked on \(client.host.name): \(shipped.output)"))
            }
            return .failure(
                .release("cannot send \(artifact) to \(client.host.name): \(HostProbe.problem(in: shipped))")
            )
        }
        return .success(folder)
    }

    /// How a file is unpacked, by its name: `tar.gz`, `tar`, or `file` (kept as it is).
    static func kind(of name: String) -> String {
        if name.hasSuffix(".tar.gz") || name.hasSuffix(".tgz") { return "tar.gz" }
        if name.hasSuffix(".tar") { return "tar" }
        return "file"
    }
}

/// The sums of artifacts read so far: a file is read again only when its size or time changed.
final class ArtifactSums: Sendable {
    static let shared = ArtifactSums()
    private let known = Mutex<[String: (file: HostBinary, modified: Date)]>([:])

    /// The file at `path` with its sum, read on a thread of its own when it is not known.
    func sum(of path: String) async throws(LaunchError) -> HostBinary {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeRegular
        else { throw .release("the artifact \(path) does not exist or is not a file") }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        let modified = attributes[.modificationDate] as? Date ?? .distantPast
        if let known = known.withLock({ $0[path] }), known.file.bytes == size, known.modified == modified {
            return known.file
        }
        let file: HostBinary
        do {
            file = try await HostBinary.read(name: (path as NSString).lastPathComponent, path: path)
        } catch {
            throw .release(error.description)
        }
        known.withLock { $0[path] = (file, modified) }
        return file
    }
}
