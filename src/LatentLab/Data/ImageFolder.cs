using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using LatentLab.IO;
using SkiaSharp;
using static TorchSharp.torch;

namespace LatentLab.Data;

/// <summary>How a folder of images becomes a dataset. Null channels or size: chosen from the data (grey when every
/// image is grey; the most common size). <paramref name="SplitSeed"/> fixes which images are held out for testing.</summary>
public sealed record ImageFolderOptions(int? Channels = null, int? Width = null, int? Height = null, double TestFraction = 0.1, long SplitSeed = 0)
{
    public ImageFolderOptions Validate()
    {
        if (Channels is not (null or 1 or 3)) throw new LatentLabException($"--channels must be 1 or 3, got {Channels}");
        if (Width is { } w && w is < ImageShape.MinSide or > ImageShape.MaxSide || Height is { } h && h is < ImageShape.MinSide or > ImageShape.MaxSide)
            throw new LatentLabException($"--image-size must be between {ImageShape.MinSide} and {ImageShape.MaxSide} pixels a side, got {Width}x{Height}");
        if (!(TestFraction is > 0 and <= 0.9)) throw new LatentLabException($"--test-fraction must be above 0 and at most 0.9, got {TestFraction}");
        return this;
    }

    /// <summary>Parses <c>--image-size</c>: "64" (square) or "64x48" (width x height).</summary>
    public static (int Width, int Height)? ParseSize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Split('x', 'X');
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, out _)))
        {
            int w = int.Parse(parts[0]), h = int.Parse(parts[^1]);
            return (w, h);
        }
        throw new LatentLabException($"--image-size must be N or WxH (e.g. 64 or 64x48), got '{text}'");
    }
}

/// <summary>What config.json records of a dataset read from a folder, enough to read the same images and split again.</summary>
/// <param name="SplitSha256">SHA-256 of the split's file list ("train PATH" and "test PATH" lines, in order).</param>
public sealed record ImageFolderSource(string Path, int Channels, int Height, int Width, double TestFraction, long SplitSeed,
    string SplitSha256, int Images, int Skipped);

/// <summary>Reads a folder of images, torchvision's ImageFolder convention: one subfolder per class (class names are the
/// subfolder names in ordinal order), or a flat folder of unlabelled images.</summary>
/// <remarks>PNG, JPEG, BMP, GIF (first frame) and WebP, decoded by SkiaSharp without colour management. Transparent
/// pixels are composited on white. Every image is resized to one size (Mitchell-Netravali cubic; when shrinking by more
/// than half, trilinear filtering over a mipmap chain, which averages the source pixels); an image already that size
/// keeps its pixels exactly. The decoded set is cached as one safetensors file under <c>DATA/image-folders/</c>, keyed
/// by the SHA-256 of every file's name, size and modification time and of the decoding options.</remarks>
public static class ImageFolder
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];
    const string CacheFormat = "latentlab-image-folder-v1";
    const string MetadataKey = "latentlab_image_folder";

    /// <summary>True when <paramref name="dataset"/> names a folder rather than a dataset of the catalog.</summary>
    public static bool IsFolder(string dataset) =>
        dataset.Contains('/') || dataset.Contains(System.IO.Path.DirectorySeparatorChar) || Directory.Exists(dataset) && !DatasetCatalog.Names.Contains(dataset);

    /// <summary>The run folders' dataset name for a folder: its last path component, reduced to safe characters.</summary>
    public static string NameOf(string folder)
    {
        var leaf = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(folder)));
        var safe = new string(leaf.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray()).Trim('.');
        return safe.Length == 0 ? "images" : safe;
    }

    sealed record Listing(string Root, IReadOnlyList<string> ClassNames, IReadOnlyList<(string Relative, int Label)> Files, int IgnoredAtRoot);

    sealed record Decoded(byte[] Pixels, ImageShape Shape, int[] Labels, List<string> Files, List<string> Skipped);

    /// <summary>Reads (or loads from the cache) and splits the folder. Warnings (skipped files) go to <paramref name="progress"/> as notes.</summary>
    public static Dataset Load(string folder, ImageFolderOptions options, string dataRoot, IProgress<FetchProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        var listing = List(folder);
        if (listing.IgnoredAtRoot > 0)
            progress?.Report(new FetchProgress("", 0, null, $"warning: ignored {listing.IgnoredAtRoot:N0} image files directly in {listing.Root} (with class subfolders, images belong inside them)"));
        var key = CacheKey(listing, options);
        var cachePath = System.IO.Path.Combine(dataRoot, "image-folders", $"{NameOf(folder)}-{key[..16]}.safetensors");
        var decoded = File.Exists(cachePath) ? ReadCache(cachePath, key, progress) : null;
        if (decoded is null)
        {
            decoded = Decode(listing, options, progress, cancel);
            WriteCache(cachePath, key, decoded, listing.ClassNames);
        }
        if (decoded.Skipped.Count > 0)
            progress?.Report(new FetchProgress("", 0, null,
                $"warning: skipped {decoded.Skipped.Count:N0} unreadable image file{(decoded.Skipped.Count == 1 ? "" : "s")}: {string.Join(", ", decoded.Skipped.Take(3))}{(decoded.Skipped.Count > 3 ? ", ..." : "")}"));
        if (decoded.Files.Count == 0) throw new LatentLabException($"{listing.Root}: no readable image among {listing.Files.Count:N0} files");
        return Split(listing, decoded, options);
    }

    static Listing List(string folder)
    {
        var root = System.IO.Path.GetFullPath(folder);
        if (File.Exists(root)) throw new LatentLabException($"{root}: is a file; --dataset takes a folder of images (or {string.Join(", ", DatasetCatalog.Names)})");
        if (!Directory.Exists(root)) throw new LatentLabException($"{root}: no such folder");
        static bool IsImage(string path) => Extensions.Contains(System.IO.Path.GetExtension(path).ToLowerInvariant());
        List<string> Images(string dir) => Directory.EnumerateFiles(dir).Where(IsImage)
            .Select(f => System.IO.Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToList();
        try
        {
            var classes = Directory.EnumerateDirectories(root).Where(d => !System.IO.Path.GetFileName(d).StartsWith('.'))
                .Select(d => (Name: System.IO.Path.GetFileName(d), Files: Images(d))).Where(c => c.Files.Count > 0)
                .OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
            var atRoot = Images(root);
            if (classes.Count == 0)
            {
                if (atRoot.Count == 0) throw new LatentLabException($"{root}: no image files ({string.Join(", ", Extensions)}) in it or in subfolders of it");
                return new Listing(root, [], atRoot.Select(f => (f, 0)).ToList(), 0);
            }
            var files = classes.SelectMany((c, label) => c.Files.Select(f => (f, label))).ToList();
            return new Listing(root, classes.Select(c => c.Name).ToList(), files, atRoot.Count);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LatentLabException($"{root}: cannot list the folder ({e.Message})");
        }
    }

    /// <summary>SHA-256 of the decoding options and of every file's name, size and modification time.</summary>
    static string CacheKey(Listing listing, ImageFolderOptions options)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) => hash.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        Add($"{CacheFormat} channels={options.Channels} size={options.Width}x{options.Height} classes={string.Join("/", listing.ClassNames)}");
        foreach (var (relative, label) in listing.Files)
        {
            var info = new FileInfo(System.IO.Path.Combine(listing.Root, relative));
            Add($"{label}\t{relative}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}");
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Decodes every file at the target size into RGB bytes, then keeps one channel when all are grey.</summary>
    static Decoded Decode(Listing listing, ImageFolderOptions options, IProgress<FetchProgress>? progress, CancellationToken cancel)
    {
        int n = listing.Files.Count;
        var parallel = new ParallelOptions { CancellationToken = cancel, MaxDegreeOfParallelism = Environment.ProcessorCount };
        string Full(int i) => System.IO.Path.Combine(listing.Root, listing.Files[i].Relative);
        var unreadable = new ConcurrentDictionary<int, bool>();
        int done = 0;

        int width, height;
        if (options.Width is { } w && options.Height is { } h) (width, height) = (w, h);
        else
        {
            // The most common size, from the headers alone (ties: the larger area, then the wider).
            var sizes = new (int W, int H)[n];
            Parallel.For(0, n, parallel, i =>
            {
                using var codec = OpenCodec(Full(i));
                if (codec is null) unreadable[i] = true;
                else sizes[i] = (codec.Info.Width, codec.Info.Height);
                int d = Interlocked.Increment(ref done);
                if (d % 512 == 0) progress?.Report(new FetchProgress("reading image sizes", d, n));
            });
            var common = sizes.Where((_, i) => !unreadable.ContainsKey(i)).GroupBy(s => s)
                .OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key.W * g.Key.H).ThenByDescending(g => g.Key.W).FirstOrDefault();
            if (common is null) throw new LatentLabException($"{listing.Root}: no readable image among {n:N0} files");
            (width, height) = common.Key;
            if (width is < ImageShape.MinSide or > ImageShape.MaxSide || height is < ImageShape.MinSide or > ImageShape.MaxSide)
                throw new LatentLabException($"{listing.Root}: the most common image size is {width}x{height}; choose a size between {ImageShape.MinSide} and {ImageShape.MaxSide} with --image-size");
        }

        int area = width * height;
        var rgb = new byte[(long)n * 3 * area];
        var grey = new bool[n];
        done = 0;
        Parallel.For(0, n, parallel, i =>
        {
            if (!unreadable.ContainsKey(i))
            {
                var ok = DecodeInto(Full(i), width, height, rgb.AsSpan((int)((long)i * 3 * area), 3 * area));
                if (ok is null) unreadable[i] = true;
                else grey[i] = ok.Value;
            }
            int d = Interlocked.Increment(ref done);
            if (d % 512 == 0 || d == n) progress?.Report(new FetchProgress($"decoding {n:N0} images", d, n));
        });

        var kept = Enumerable.Range(0, n).Where(i => !unreadable.ContainsKey(i)).ToList();
        int channels = options.Channels ?? (kept.All(i => grey[i]) ? 1 : 3);
        var pixels = new byte[(long)kept.Count * channels * area];
        Parallel.For(0, kept.Count, parallel, k =>
        {
            var source = rgb.AsSpan((int)((long)kept[k] * 3 * area), 3 * area);
            var target = pixels.AsSpan((int)((long)k * channels * area), channels * area);
            if (channels == 3) source.CopyTo(target);
            else if (grey[kept[k]]) source[..area].CopyTo(target);
            else
                for (int p = 0; p < area; p++)   // ITU-R BT.601 luma, as PIL's convert("L")
                    target[p] = (byte)((source[p] * 299 + source[area + p] * 587 + source[2 * area + p] * 114 + 500) / 1000);
        });
        return new Decoded(pixels, new ImageShape(channels, height, width), kept.Select(i => listing.Files[i].Label).ToArray(),
            kept.Select(i => listing.Files[i].Relative).ToList(),
            unreadable.Keys.Order().Select(i => listing.Files[i].Relative).ToList());
    }

    static SKCodec? OpenCodec(string path)
    {
        try
        {
            var codec = SKCodec.Create(path, out var result);
            return result == SKCodecResult.Success ? codec : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Decodes one image into planar RGB at the target size; returns whether it is grey (R = G = B everywhere),
    /// or null when it cannot be decoded.</summary>
    static bool? DecodeInto(string path, int width, int height, Span<byte> planes)
    {
        using var codec = OpenCodec(path);
        if (codec is null) return null;
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul, codec.Info.ColorSpace);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success) return null;
        // Composite on white, so transparent pixels are white and the image is opaque before any resampling.
        var rgba = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(bitmap.GetPixelSpan()), bitmap.ByteCount);
        for (int p = 0; p < rgba.Length; p += 4)
        {
            int a = rgba[p + 3];
            if (a == 255) continue;
            for (int c = 0; c < 3; c++) rgba[p + c] = (byte)((rgba[p + c] * a + 255 * (255 - a) + 127) / 255);
            rgba[p + 3] = 255;
        }
        SKBitmap? resized = null;
        try
        {
            var source = bitmap;
            if (info.Width != width || info.Height != height)
            {
                bool shrinkingMuch = width * 2 < info.Width || height * 2 < info.Height;
                var sampling = shrinkingMuch ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear) : new SKSamplingOptions(SKCubicResampler.Mitchell);
                resized = bitmap.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul, info.ColorSpace), sampling);
                if (resized is null) return null;
                source = resized;
            }
            var px = source.GetPixelSpan();
            int area = width * height;
            bool isGrey = true;
            for (int p = 0; p < area; p++)
            {
                byte r = px[4 * p], g = px[4 * p + 1], b = px[4 * p + 2];
                planes[p] = r;
                planes[area + p] = g;
                planes[2 * area + p] = b;
                isGrey &= r == g && g == b;
            }
            return isGrey;
        }
        finally
        {
            resized?.Dispose();
        }
    }

    sealed record CacheMetadata(string Key, IReadOnlyList<string> ClassNames, IReadOnlyList<string> Files, IReadOnlyList<string> Skipped);

    static void WriteCache(string path, string key, Decoded decoded, IReadOnlyList<string> classNames)
    {
        using var scope = NewDisposeScope();
        var images = tensor(decoded.Pixels, decoded.Shape.TensorShape(decoded.Files.Count), ScalarType.Byte);
        var labels = tensor(decoded.Labels.Select(l => (long)l).ToArray(), [decoded.Labels.Length]);
        var metadata = new CacheMetadata(key, classNames, decoded.Files, decoded.Skipped);
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            SafeTensors.Write(path, [("images", images), ("labels", labels)],
                new Dictionary<string, string> { [MetadataKey] = Json.Serialize(metadata).ReplaceLineEndings("") });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LatentLabException)
        {
            // A cache is an optimisation: a read-only data folder still trains, only more slowly next time.
        }
    }

    /// <summary>The cached decoding, or null when the file is not a valid cache for this key (it is then rewritten).</summary>
    static Decoded? ReadCache(string path, string key, IProgress<FetchProgress>? progress)
    {
        try
        {
            progress?.Report(new FetchProgress($"loading {System.IO.Path.GetFileName(path)}", 0, null));
            var (tensors, meta) = SafeTensors.Read(path);
            if (!meta.TryGetValue(MetadataKey, out var json)) return null;
            var metadata = System.Text.Json.JsonSerializer.Deserialize<CacheMetadata>(json, Json.Options);
            if (metadata is null || metadata.Key != key) return null;
            if (!tensors.TryGetValue("images", out var images) || images.Dtype != "U8" || images.Shape.Length != 4 || images.Shape[0] != metadata.Files.Count)
                return null;
            if (!tensors.TryGetValue("labels", out var labels) || labels.Dtype != "I64" || labels.Shape.Length != 1 || labels.Shape[0] != metadata.Files.Count)
                return null;
            using var scope = NewDisposeScope();
            var shape = new ImageShape((int)images.Shape[1], (int)images.Shape[2], (int)images.Shape[3]);
            var pixels = images.ToTensor().data<byte>().ToArray();
            var labelValues = labels.ToTensor().data<long>().ToArray().Select(l => (int)l).ToArray();
            return new Decoded(pixels, shape, labelValues, metadata.Files.ToList(), metadata.Skipped.ToList());
        }
        catch (Exception e) when (e is LatentLabException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The seeded, stratified split: within each class, round(n * fraction) images (at least 1, at most n - 1)
    /// drawn for testing; both splits keep the folder's order.</summary>
    static Dataset Split(Listing listing, Decoded decoded, ImageFolderOptions options)
    {
        int n = decoded.Files.Count;
        var groups = Enumerable.Range(0, n).GroupBy(i => decoded.Labels[i]).OrderBy(g => g.Key).ToList();
        var isTest = new bool[n];
        var random = new Random((int)(options.SplitSeed & 0x7fffffff));
        foreach (var group in groups)
        {
            var members = group.ToArray();
            if (members.Length < 2)
            {
                string what = listing.ClassNames.Count > 0 ? $"class '{listing.ClassNames[group.Key]}'" : "the folder";
                throw new LatentLabException($"{listing.Root}: {what} has {members.Length} usable image{(members.Length == 1 ? "" : "s")}; each class needs at least 2 (one to train on, one to test)");
            }
            random.Shuffle(members);
            int testCount = Math.Clamp((int)Math.Round(members.Length * options.TestFraction, MidpointRounding.AwayFromZero), 1, members.Length - 1);
            foreach (var i in members.Take(testCount)) isTest[i] = true;
        }
        var train = Enumerable.Range(0, n).Where(i => !isTest[i]).ToArray();
        var test = Enumerable.Range(0, n).Where(i => isTest[i]).ToArray();
        var splitText = string.Concat(train.Select(i => $"train {decoded.Files[i]}\n")) + string.Concat(test.Select(i => $"test {decoded.Files[i]}\n"));
        var splitSha = Hashing.Sha256Hex(Encoding.UTF8.GetBytes(splitText));

        using var scope = NewDisposeScope();
        var shape = decoded.Shape;
        var all = tensor(decoded.Pixels, shape.TensorShape(n), ScalarType.Byte);
        var labels = tensor(decoded.Labels.Select(l => (long)l).ToArray(), [n]);
        Tensor Images(int[] rows) => all.index_select(0, tensor(rows.Select(r => (long)r).ToArray())).to(ScalarType.Float32).div_(255f);
        Tensor Labels(int[] rows) => labels.index_select(0, tensor(rows.Select(r => (long)r).ToArray()));
        var sha = new Dictionary<string, string>
        {
            ["files"] = CacheKeyOfFiles(decoded),
            ["pixels"] = Hashing.Sha256Hex(decoded.Pixels),
            ["split"] = splitSha,
        };
        // Known factors of the images, when the folder has a factors.csv: read each time (it is small), not cached.
        DatasetFactors? factors = null;
        var factorsPath = System.IO.Path.Combine(listing.Root, FactorsCsv.FileName);
        if (File.Exists(factorsPath))
        {
            var (names, values) = FactorsCsv.Read(factorsPath, decoded.Files, decoded.Skipped);
            Tensor Rows(int[] rows)
            {
                var flat = new double[rows.Length * names.Count];
                for (int r = 0; r < rows.Length; r++)
                    for (int k = 0; k < names.Count; k++) flat[r * names.Count + k] = values[rows[r], k];
                return tensor(flat, [rows.Length, names.Count]).DetachFromDisposeScope();
            }
            factors = new DatasetFactors(names, Rows(train), Rows(test));
        }
        return new Dataset(NameOf(listing.Root), listing.ClassNames, sha, Images(train), Labels(train), Images(test), Labels(test))
        {
            Factors = factors,
            Folder = new ImageFolderSource(listing.Root, shape.Channels, shape.Height, shape.Width, options.TestFraction, options.SplitSeed, splitSha, n, decoded.Skipped.Count),
        };
    }

    static string CacheKeyOfFiles(Decoded decoded) =>
        Hashing.Sha256Hex(Encoding.UTF8.GetBytes(string.Join("\n", decoded.Files.Select((f, i) => $"{decoded.Labels[i]}\t{f}"))));
}
