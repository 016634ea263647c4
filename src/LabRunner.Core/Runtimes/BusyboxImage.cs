using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LabRunner.Execution;

namespace LabRunner.Runtimes;

/// <summary>
/// docker.io/library/busybox:latest built offline from Debian's busybox-static: no registry is reachable here,
/// nor in many training rooms. The root filesystem is /bin/busybox plus a symlink per applet; it is packed
/// as a plain tar (for Docker's import) or as an OCI image archive (for `ctr image import`).
/// </summary>
public static class BusyboxImage
{
    public const string Reference = "docker.io/library/busybox:latest";

    /// <summary>The root filesystem as an uncompressed tar; its applets are what `busybox --list` says (run by <paramref name="runner"/>).</summary>
    public static async Task<byte[]> RootfsTarAsync(ICommandRunner runner, CancellationToken ct = default)
    {
        var busybox = Engine.EnvironmentCheck.FindOnPath("busybox")
                      ?? throw new InvalidOperationException("busybox is not installed: apt-get install -y busybox-static");
        var list = await runner.RunAsync([busybox, "--list"], CommandPurpose.Setup, ct);
        if (!list.Succeeded) throw new InvalidOperationException($"`{busybox} --list` failed: {list.Error}");
        var applets = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(a => a != "busybox" && !a.Contains('/'))
            .Order(StringComparer.Ordinal);

        using var buffer = new MemoryStream();
        await using (var tar = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            // Fixed times and owners: the same busybox gives the same image digest.
            var epoch = DateTimeOffset.UnixEpoch;
            foreach (var dir in new[] { "bin", "dev", "etc", "proc", "root", "sys", "tmp" })
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, dir + "/") { Mode = Mode(dir == "tmp" ? "1777" : "755"), ModificationTime = epoch }, ct);
            await using (var binary = File.OpenRead(busybox))
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = Mode("755"), ModificationTime = epoch, DataStream = binary };
                await tar.WriteEntryAsync(entry, ct);
            }
            foreach (var applet in applets)
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, $"bin/{applet}") { LinkName = "busybox", Mode = Mode("777"), ModificationTime = epoch }, ct);
            var passwd = new MemoryStream("root:x:0:0:root:/root:/bin/sh\n"u8.ToArray());
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "etc/passwd") { Mode = Mode("644"), ModificationTime = epoch, DataStream = passwd }, ct);
        }
        return buffer.ToArray();
    }

    /// <summary>An OCI image layout archive holding the image, tagged <see cref="Reference"/>, for `ctr image import`.</summary>
    public static async Task WriteOciArchiveAsync(string path, ICommandRunner runner, CancellationToken ct = default)
    {
        var rootfs = await RootfsTarAsync(runner, ct);
        var layer = Gzip(rootfs);
        var config = Json(new
        {
            architecture = "amd64",
            os = "linux",
            config = new { Env = new[] { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }, Cmd = new[] { "sh" } },
            rootfs = new { type = "layers", diff_ids = new[] { Digest(rootfs) } },
        });
        var manifest = Json(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.manifest.v1+json",
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = Digest(config), size = config.Length },
            layers = new[] { new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = Digest(layer), size = layer.Length } },
        });
        var index = Json(new
        {
            schemaVersion = 2,
            manifests = new[]
            {
                new
                {
                    mediaType = "application/vnd.oci.image.manifest.v1+json",
                    digest = Digest(manifest),
                    size = manifest.Length,
                    annotations = new Dictionary<string, string>
                    {
                        ["io.containerd.image.name"] = Reference,
                        ["org.opencontainers.image.ref.name"] = "latest",
                    },
                },
            },
        });

        await using var file = File.Create(path);
        await using var tar = new TarWriter(file, TarEntryFormat.Pax);
        async Task Add(string name, byte[] data)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = Mode("644"), DataStream = new MemoryStream(data), ModificationTime = DateTimeOffset.UnixEpoch };
            await tar.WriteEntryAsync(entry, ct);
        }
        await Add("oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray());
        await Add("index.json", index);
        foreach (var blob in new[] { layer, config, manifest })
            await Add($"blobs/sha256/{Digest(blob)["sha256:".Length..]}", blob);
    }

    /// <summary>The rootfs as a gzip'd tar (Docker's image import accepts it as is).</summary>
    public static async Task<byte[]> GzippedRootfsAsync(ICommandRunner runner, CancellationToken ct = default) => Gzip(await RootfsTarAsync(runner, ct));

    private static UnixFileMode Mode(string octal) => (UnixFileMode)Convert.ToInt32(octal, 8);

    private static byte[] Json(object value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }
}
