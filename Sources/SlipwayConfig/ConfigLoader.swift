import Foundation

/// Reads configuration files into validated specs.
public enum ConfigLoader {
    /// Reads and checks the file at `file`.
    ///
    /// Relative paths in the file are resolved against the directory that contains it.
    /// Throws every problem found, including a file that cannot be read (reported at position 0:0).
    public static func load(file: String) throws(ConfigErrors) -> SlipwayConfig {
        let absolute = PathResolution.absolute(file, base: FileManager.default.currentDirectoryPath)
        let baseDirectory = PathResolution.normalize(absolute + "/..")
        let yaml: String
        switch read(absolute) {
        case .success(let text):
            yaml = text
        case .failure(let reason):
            let message = "cannot read: \(reason.text)"
            throw ConfigErrors([ConfigDiagnostic(file: file, location: .unknown, keyPath: "", message: message)])
        }
        return try parse(yaml: yaml, file: file, baseDirectory: baseDirectory)
    }

    /// Checks `yaml` as the content of `file`, resolving relative paths against `baseDirectory`.
    ///
    /// `file` is only used in diagnostics. Throws every problem found, sorted by position.
    public static func parse(yaml: String, file: String, baseDirectory: String) throws(ConfigErrors) -> SlipwayConfig {
        let base = PathResolution.absolute(".", base: baseDirectory)
        switch YAMLComposer.compose(yaml) {
        case .failure(let error):
            let diagnostic = ConfigDiagnostic(file: file, location: error.location, keyPath: "", message: error.message)
            throw ConfigErrors([diagnostic])
        case .success(let document):
            let decoder = ConfigDecoder(file: file, baseDirectory: base, document: document)
            guard let config = decoder.document(document.root) else {
                throw ConfigErrors(decoder.diagnostics)
            }
            return config
        }
    }

    /// Why a file could not be read.
    private struct ReadFailure: Error {
        var text: String
    }

    private static func read(_ path: String) -> Result<String, ReadFailure> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(ReadFailure(text: "no such file"))
        }
        guard !isDirectory.boolValue else {
            return .failure(ReadFailure(text: "it is a directory, not a file"))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(ReadFailure(text: "permission denied or read error"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(ReadFailure(text: "the file is not UTF-8 text"))
        }
        return .success(text)
    }
}
