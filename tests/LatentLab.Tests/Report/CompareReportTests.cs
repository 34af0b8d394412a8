using System.Text.Json;
using LatentLab.Training;
using LatentLab.Visualization.Report;
using Microsoft.Playwright;
using static TorchSharp.torch;
using LatentLab.Storage;

namespace LatentLab.Tests.Report;

/// <summary>Runs <c>latent compare --epochs 1</c> on the committed MNIST slice once, for all tests of this class: its four
/// models two at once, each in a worker process of one thread (what compare does by default on two cores).</summary>
public sealed class CompareFixture : IDisposable
{
    public TempDir Dir { get; } = new();
    public string DatasetFolder => Dir["mnist"];
    public int Exit { get; }
    public string Output { get; }

    public CompareFixture()
    {
        (Exit, Output, _) = LatentCommand.Run([.. Arguments(Dir.Path), "--jobs", "2"]);
    }

    public static string[] Arguments(string outFolder) =>
        ["compare", "--epochs", "1", "--data-dir", Fixtures.MnistSliceFolder, "--out", outFolder, "--iwae-k", "5", "--tsne-points", "60", "--threads", "1"];

    public void Dispose() => Dir.Dispose();
}

public class CompareReportTests(CompareFixture run) : IClassFixture<CompareFixture>
{
    static readonly string[] Models = ["vae_2d", "ae_2d", "vae_32d", "ae_32d"];

    [Fact]
    public void CompareWritesTheThreeFilesWithEveryModel()
    {
        Assert.True(run.Exit == 0, run.Output);
        // Where the time went, stage by stage, for the reader who wants compare faster.
        Assert.Matches(@"time by stage: training \d+\.\d s \(.*\); evaluation \d+\.\d s \(.*\); figures \d+\.\d s \(.*t-SNE", System.Text.RegularExpressions.Regex.Replace(run.Output, @"\s+", " "));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.DatasetFolder, Comparison.FileName)));
        var models = json.RootElement.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(Models.Order(), models.Select(m => m.GetProperty("name").GetString()!).Order());
        Assert.All(models, m => Assert.True(m.GetProperty("metrics").GetProperty("test_mse").GetDouble() is > 0 and < 1));
        Assert.Equal(2, json.RootElement.GetProperty("pairs").GetArrayLength());

        var md = File.ReadAllText(Path.Combine(run.DatasetFolder, MarkdownReport.FileName));
        foreach (var model in Models) Assert.Contains($"| {model} ", md.Replace("| vae", "| vae"), StringComparison.Ordinal);
        Assert.Contains("## 2-d: vae_2d against ae_2d", md);
        Assert.Contains("## 32-d: vae_32d against ae_32d", md);
        // Every table row has as many cells as the header: no stray '|' inside a cell.
        var tableLines = md.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        Assert.All(tableLines, l => Assert.Equal(tableLines[0].Replace("\\|", "").Count(c => c == '|'), l.Replace("\\|", "").Count(c => c == '|')));

        var html = File.ReadAllText(Path.Combine(run.DatasetFolder, HtmlReport.FileName));
        Assert.DoesNotContain("src=\"http", html);
        Assert.DoesNotContain("href=\"http", html);
        // Side by side 8; then each model's figures and animations, less what side by side shows of it (reconstructions and
        // samples; the 2-d plane; a 2-d VAE's prior and posterior, and its posterior fit) and the 2-d models' latent
        // evolution, which the page draws: vae_2d 9 - 5 + 2, ae_2d 6 - 3 + 2, vae_32d 7 - 2 + 2, ae_32d 6 - 2 + 2.
        Assert.Equal(8 + 6 + 5 + 7 + 6, CountOf(html, "<img "));
        Assert.Equal(2, CountOf(html, "<canvas class=\"evolution\""));
        Assert.Equal(4, CountOf(html, "Shown side by side above, so not repeated here"));
        Assert.DoesNotContain("data:image/gif", html);   // every animation travels as its smaller APNG copy
    }

    [Fact]
    public void TheSideBySideFiguresShowEveryModelInItsPlace()
    {
        Assert.True(run.Exit == 0, run.Output);
        string Figure(string file) => Path.Combine(run.DatasetFolder, "comparison", file);
        SkiaSharp.SKBitmap Load(string file) => SkiaSharp.SKBitmap.Decode(Figure(file)) ?? throw new Xunit.Sdk.XunitException($"{file} is not a PNG");
        static void NotBlank(SkiaSharp.SKBitmap b, string name)
        {
            int dark = 0, light = 0;
            for (int y = 0; y < b.Height; y += 3)
                for (int x = 0; x < b.Width; x += 3)
                {
                    var p = b.GetPixel(x, y);
                    if (p.Red + p.Green + p.Blue < 150) dark++; else if (p.Red + p.Green + p.Blue > 600) light++;
                }
            Assert.True(dark > 100 && light > 100, $"{name} looks blank ({dark} dark, {light} light samples)");
        }
        // Reconstructions: a column per class (the first test image of each), rows: original + the four models.
        using (var b = Load("reconstructions.png"))
        {
            Assert.Equal((190 + 10 * (84 + 8) + 8, 70 + 5 * (84 + 22 + 8) + 8), (b.Width, b.Height));
            NotBlank(b, "reconstructions.png");
        }
        using (var b = Load("latent_planes.png")) { Assert.Equal((2 * 720, 640), (b.Width, b.Height)); NotBlank(b, "latent_planes.png"); }   // the two 2-d models
        using (var b = Load("samples.png")) { Assert.Equal(4 * (6 * 56 + 7 * 2 + 30) + 30, b.Width); NotBlank(b, "samples.png"); }       // four panels of 6 x 6
        using (var b = Load("training_curves.png")) NotBlank(b, "training_curves.png");
        using (var b = Load("latent_spread.png")) NotBlank(b, "latent_spread.png");
        using (var b = Load("traversals.png"))                                                                                                  // the two 32-d models, 6 rows x 7 steps
        {
            Assert.Equal((2 * (7 * 56 + 8 * 2 + 60) + 60, 100 + 6 * 56 + 7 * 2 + 40), (b.Width, b.Height));
            NotBlank(b, "traversals.png");
        }
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.DatasetFolder, Comparison.FileName)));
        var figures = json.RootElement.GetProperty("side_by_side").EnumerateArray().ToList();
        Assert.Equal(["comparison/reconstructions.png", "comparison/prior_and_posterior.png", "comparison/posterior_fit.png", "comparison/latent_planes.png", "comparison/samples.png", "comparison/training_curves.png",
            "comparison/latent_spread.png", "comparison/traversals.png"], figures.Select(f => f.GetProperty("file").GetString()));
        Assert.All(figures, f => Assert.NotEmpty(f.GetProperty("sentences").EnumerateArray()));
        Assert.Contains("## Side by side", File.ReadAllText(Path.Combine(run.DatasetFolder, MarkdownReport.FileName)));
    }

    [Fact]
    public async Task CompareTakesRunsTrainedWithOtherOptionsAndNamesEach()
    {
        using var dir = new TempDir();
        string[] common = ["--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path, "--iwae-k", "0"];
        Assert.Equal(0, (await LatentCommand.RunAsync(["train", "--model", "vae_2d", "--beta", "4", "--epochs", "1", .. common])).Exit);
        Assert.Equal(0, (await LatentCommand.RunAsync(["compare", "--models", "vae_2d,vae_2d-beta4", "--epochs", "1", "--tsne-points", "50", .. common])).Exit);
        using var json = JsonDocument.Parse(File.ReadAllText(dir["mnist/" + Comparison.FileName]));
        var models = json.RootElement.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(["vae_2d", "vae_2d-beta4"], models.Select(m => m.GetProperty("name").GetString()!).Order());
        Assert.Equal(4.0, models.Single(m => m.GetProperty("name").GetString() == "vae_2d-beta4").GetProperty("model").GetProperty("beta").GetDouble());
        using var grid = SkiaSharp.SKBitmap.Decode(dir["mnist/comparison/reconstructions.png"]);
        Assert.Equal(70 + 3 * (84 + 22 + 8) + 8, grid.Height);                     // originals and the two runs
        Assert.Contains("vae_2d-beta4", File.ReadAllText(dir["mnist/" + MarkdownReport.FileName]));
    }

    [Fact]
    public void TheFindingsFollowTheNumbers()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.DatasetFolder, Comparison.FileName)));
        var byName = json.RootElement.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        foreach (var pair in json.RootElement.GetProperty("pairs").EnumerateArray())
        {
            var vae = byName[pair.GetProperty("vae").GetString()!];
            var ae = byName[pair.GetProperty("ae").GetString()!];
            var sentences = pair.GetProperty("sentences").EnumerateArray().Select(s => s.GetString()!).ToList();
            string closer = vae.GetProperty("prior_gap_nats").GetDouble() <= ae.GetProperty("prior_gap_nats").GetDouble() ? "vae" : "ae";
            string sharper = vae.GetProperty("metrics").GetProperty("test_mse").GetDouble() < ae.GetProperty("metrics").GetProperty("test_mse").GetDouble() ? "vae" : "ae";
            Assert.Contains(sentences, s => s.StartsWith($"{(closer == "vae" ? vae : ae).GetProperty("name").GetString()}'s latent space is closer to N(0, I)", StringComparison.Ordinal));
            Assert.Contains(sentences, s => s.StartsWith($"{(sharper == "vae" ? vae : ae).GetProperty("name").GetString()} reconstructs the test images more closely", StringComparison.Ordinal));
        }
    }

    /// <summary>The fixture's models ran two at once in worker processes; one after another in this process, each with the
    /// same one thread, they give the same numbers to the last digit: a worker is the same computation, not an approximation
    /// of it (each model's arithmetic is fixed by its seed and its thread count).</summary>
    [Fact]
    public async Task TwoAtOnceGiveTheNumbersOfOneAfterAnother()
    {
        Assert.True(run.Exit == 0, run.Output);
        Assert.Contains("4 models to train, evaluate or draw, 2 at once, each in a process of its own with 1 thread", System.Text.RegularExpressions.Regex.Replace(run.Output, @"\s+", " "));
        using var dir = new TempDir();
        var (exit, output, error) = await LatentCommand.RunAsync([.. CompareFixture.Arguments(dir.Path), "--jobs", "1"]);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("at once", output);
        Assert.Matches(@"time by stage: training \d+\.\d s \(.*\); evaluation \d+\.\d s", System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "));

        static Dictionary<string, JsonElement> ComparedModels(string folder) => JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "mnist", Comparison.FileName)))
            .RootElement.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        var together = ComparedModels(run.Dir.Path);
        var apart = ComparedModels(dir.Path);
        Assert.Equal(together.Keys.Order(), apart.Keys.Order());
        int compared = 0;
        foreach (var (name, model) in together)
            foreach (var metric in model.GetProperty("metrics").EnumerateObject().Where(m => m.Name != "eval_seconds"))
            {
                Assert.True(metric.Value.GetRawText() == apart[name].GetProperty("metrics").GetProperty(metric.Name).GetRawText(),
                    $"{name} {metric.Name}: {metric.Value.GetRawText()} two at once, {apart[name].GetProperty("metrics").GetProperty(metric.Name).GetRawText()} one after another");
                compared++;
            }
        Assert.True(compared > 80, $"only {compared} metrics compared");
        foreach (var name in Models)
            Assert.Equal(File.ReadAllText(Path.Combine(run.DatasetFolder, name, "history.csv")).Split('\n').Select(WithoutSeconds),
                File.ReadAllText(Path.Combine(dir.Path, "mnist", name, "history.csv")).Split('\n').Select(WithoutSeconds));
        static string WithoutSeconds(string row) => string.Join(',', row.Split(',').Where((_, i) => i != 5));
    }

    [Fact]
    public async Task RunningAgainRedoesNothingThatIsDone()
    {
        var model = Path.Combine(run.DatasetFolder, "vae_2d", "model.safetensors");
        var before = File.GetLastWriteTimeUtc(model);
        var (exit, output, _) = await LatentCommand.RunAsync(CompareFixture.Arguments(run.Dir.Path));
        Assert.Equal(0, exit);
        Assert.DoesNotContain("at once", output);   // nothing left for a worker
        foreach (var name in Models) Assert.Contains($"{name}: trained (1 epoch); evaluated and drawn", output);
        Assert.Equal(before, File.GetLastWriteTimeUtc(model));
    }

    static int CountOf(string text, string what)
    {
        int count = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>The report in a real Chromium: no console errors, and the page's decoder agrees with the C# one.</summary>
    [Fact]
    public async Task TheExplorerDecodesInTheBrowserAsTheCSharpDecoderDoes()
    {
        Assert.True(run.Exit == 0, run.Output);
        await BrowserCheck.ExplorersDecodeAsCSharpDoes(run.DatasetFolder, ["vae_2d", "ae_2d"], "report.png");
    }

}

/// <summary>The browser check of a report's latent explorers, shared by the MNIST and the image-folder reports.</summary>
public static class BrowserCheck
{
    /// <summary>Opens OUT/&lt;dataset&gt;/report.html in Debian's Chromium, moves the pointer to five places of each named
    /// explorer, and compares the page's decoded image with the C# decoder's (within 1e-4 per value); no console errors.
    /// A full-page screenshot goes to tests/artifacts/<paramref name="screenshot"/>.</summary>
    public static async Task ExplorersDecodeAsCSharpDoes(string datasetFolder, string[] names, string screenshot)
    {
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: install Debian's chromium package (./test does when it can)");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1300, Height = 1000 } });
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(new Uri(Path.Combine(datasetFolder, HtmlReport.FileName)).AbsoluteUri);
        try
        {
            await page.WaitForFunctionAsync("() => window.latentlab && Object.keys(window.latentlab.explorers).length === " + names.Length + "");
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"the explorers did not start; page errors: {string.Join(" | ", errors)}");
        }
        // Every side-by-side figure loaded as an image.
        var widths = await page.EvaluateAsync<int[]>("() => Array.from(document.querySelectorAll('img[data-comparison]')).map(i => i.naturalWidth)");
        // One for each picture in comparison/ (the MNIST and the folder comparisons: seven, and the posterior fit of
        // their 2-d VAE).
        var drawn = Directory.GetFiles(Path.Combine(datasetFolder, "comparison"), "*.png").Select(Path.GetFileName).ToList();
        Assert.Contains("posterior_fit.png", drawn);
        Assert.Equal(8, drawn.Count);
        Assert.Equal(drawn.Count, widths.Length);
        Assert.All(widths, w => Assert.True(w > 0));
        // Every picture of the page loaded, the animations' APNG copies too.
        var all = await page.EvaluateAsync<int[]>("() => Array.from(document.querySelectorAll('img')).map(i => i.naturalWidth)");
        Assert.True(all.Length > 6);
        Assert.All(all, w => Assert.True(w > 0));
        await EvolutionsPlay(page, datasetFolder, names);

        foreach (var name in names)
        {
            using var model = new RunFolder(Path.Combine(datasetFolder, name)).LoadModel();
            var canvas = page.Locator($".explorer[data-model=\"{name}\"] canvas.plane");
            await canvas.ScrollIntoViewIfNeededAsync();
            var box = await canvas.BoundingBoxAsync() ?? throw new Xunit.Sdk.XunitException($"{name}: explorer canvas not shown");
            var seen = new List<double[]>();
            foreach (var (fx, fy) in new[] { (0.1, 0.1), (0.5, 0.5), (0.85, 0.3), (0.25, 0.9), (0.7, 0.75) })
            {
                await page.Mouse.MoveAsync((float)(box.X + fx * box.Width), (float)(box.Y + fy * box.Height));
                var last = await page.EvaluateAsync<JsonElement>($"() => window.latentlab.explorers['{name}'].last");
                var z = last.GetProperty("z").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                var pixels = last.GetProperty("pixels").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                Assert.Equal(model.Config.Image.Pixels, pixels.Length);
                using var expected = model.Decode(tensor(new[] { (float)z[0], (float)z[1] }, [1, 2])).sigmoid();
                var cs = expected.data<float>().ToArray();
                double worst = pixels.Select((p, i) => Math.Abs(p - cs[i])).Max();
                Assert.True(worst < 1e-4, $"{name} at z = ({z[0]}, {z[1]}): the page's pixels differ from C#'s by up to {worst}");
                var readout = await page.Locator($".explorer[data-model=\"{name}\"] .z").TextContentAsync();
                Assert.Contains(z[0].ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), readout);
                seen.Add(z);
            }
            // The prior's (or the AE's fitted sampler's) contours are drawn under the plane.
            int segments = await page.EvaluateAsync<int>($"() => window.latentlab.explorers['{name}'].priorSegments");
            Assert.True(segments > 20, $"{name}: {segments} contour segments under the plane");
            // The pointer really moved the decoded point: five places, five codes, spread over the plane.
            Assert.Equal(5, seen.Select(z => (Math.Round(z[0], 6), Math.Round(z[1], 6))).Distinct().Count());
            Assert.True(seen[2][0] > seen[0][0] && seen[3][1] < seen[0][1], $"{name}: z does not follow the pointer (x right, y up)");
        }
        Assert.Empty(errors);

        var artifacts = Path.Combine(RepositoryRoot(), "tests", "artifacts");
        Directory.CreateDirectory(artifacts);
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, screenshot), FullPage = true });
        Assert.True(new FileInfo(Path.Combine(artifacts, screenshot)).Length > 10_000);
    }

    /// <summary>Each 2-d model's latent evolution plays on its canvas: the frames of its GIF, from codes within half a
    /// quantisation step of the snapshots; drawn (not blank), moving, and paused by a click.</summary>
    static async Task EvolutionsPlay(IPage page, string datasetFolder, string[] names)
    {
        await page.WaitForFunctionAsync($"() => window.latentlab.evolutions && Object.keys(window.latentlab.evolutions).length === {names.Length}");
        foreach (var name in names)
        {
            var folder = new RunFolder(Path.Combine(datasetFolder, name));
            using (var gif = new ImageMagick.MagickImageCollection(Path.Combine(folder.AnimationsDir, "latent_evolution.gif")))
                Assert.Equal(gif.Count, await page.EvaluateAsync<int>($"() => window.latentlab.evolutions['{name}'].frames"));
            var (series, _) = LatentLab.Visualization.Visualizer.ReadSnapshots(folder.SnapshotsPath);
            var steps = await page.EvaluateAsync<double[]>($"() => window.latentlab.evolutions['{name}'].steps");
            for (int s = 0; s < series.Count; s += Math.Max(1, series.Count - 1))
            {
                var codes = await page.EvaluateAsync<double[]>($"() => Array.from(window.latentlab.evolutions['{name}'].codes[{s}])");
                double worst = series[s].X.Select((x, i) => Math.Max(Math.Abs(codes[2 * i] - x) / steps[0], Math.Abs(codes[2 * i + 1] - series[s].Y[i]) / steps[1])).Max();
                Assert.True(worst <= 0.5 + 1e-3, $"{name}, snapshot {s}: the page's codes are {worst} steps from the file's");
            }

            var canvas = page.Locator($"canvas.evolution[data-model=\"{name}\"]");
            await canvas.ScrollIntoViewIfNeededAsync();
            const string colours = "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set(); for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]); return seen.size; }";
            Assert.True(await canvas.EvaluateAsync<int>(colours) > 10, $"{name}: the evolution canvas looks blank");
            int before = await page.EvaluateAsync<int>($"() => window.latentlab.evolutions['{name}'].drawn");
            await page.WaitForFunctionAsync($"() => window.latentlab.evolutions['{name}'].drawn > {before}");   // it plays
            await canvas.ClickAsync();
            Assert.True(await page.EvaluateAsync<bool>($"() => window.latentlab.evolutions['{name}'].paused"));
            int paused = await page.EvaluateAsync<int>($"() => window.latentlab.evolutions['{name}'].drawn");
            await page.WaitForTimeoutAsync(2500);   // longer than the last frame's 2 s
            Assert.Equal(paused, await page.EvaluateAsync<int>($"() => window.latentlab.evolutions['{name}'].drawn"));
        }
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LatentLab.slnx"))) return dir.FullName;
        return AppContext.BaseDirectory;
    }
}
