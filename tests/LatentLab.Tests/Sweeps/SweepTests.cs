using LatentLab.Runtime;
using k8s;
using k8s.Models;
using LatentLab.Sweeps;
using LatentLab.Training;
using LatentLab.Storage;

namespace LatentLab.Tests.Sweeps;

/// <summary>Planning, refusing bad grids, the exported Kubernetes Job, and one writer per point. (Running the grid three
/// ways, a real Slurm included, is tests/sweep.sh.)</summary>
public class SweepTests
{
    static string ExampleGrid => Path.Combine(RepositoryRoot(), "examples", "sweeps", "slice.yaml");

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LatentLab.slnx"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    static string[] Common(TempDir dir) => ["--data-dir", Fixtures.MnistSliceFolder, "--out", dir.Path];

    [Fact]
    public async Task PlanningFromOptionsOrFromTheFileGivesTheSamePointsInAStableOrder()
    {
        using var dir = new TempDir();
        var (exit, output, error) = await LatentCommand.RunAsync(["sweep", "plan", "fromfile", "--file", ExampleGrid, .. Common(dir)]);
        Assert.True(exit == 0, error);
        Assert.Contains("12 points (8 VAE, 4 AE)", output);
        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "plan", "fromoptions", "--model", "vae,ae", "--latent-dim", "2,8", "--beta", "0.5,2",
            "--seed", "0,1", "--epochs", "2", "--batch-size", "100", "--threads", "1", "--iwae-k", "10", .. Common(dir)]);
        Assert.True(exit == 0, error);

        var a = SweepPlan.Read(dir["mnist/sweeps/fromfile"]);
        var b = SweepPlan.Read(dir["mnist/sweeps/fromoptions"]);
        Assert.True(a.SameGrid(b with { Name = a.Name, CreatedUtc = a.CreatedUtc }));
        Assert.Equal(Enumerable.Range(0, 12), a.Points.Select(p => p.Index));
        // Models, then latent sizes, then betas, then seeds; an AE once per (latent size, seed).
        Assert.Equal("runs/000-vae-z2-beta0.5-seed0", a.Points[0].Folder);
        Assert.Equal("runs/001-vae-z2-beta0.5-seed1", a.Points[1].Folder);
        Assert.Equal("runs/002-vae-z2-beta2-seed0", a.Points[2].Folder);
        Assert.Equal("runs/008-ae-z2-seed0", a.Points[8].Folder);
        Assert.All(a.Points.Skip(8), p => Assert.Null(p.Beta));
        Assert.All(a.Points, p => Assert.Equal(p.LatentDim, p.Config.LatentDim));

        // The sweep file plan writes reads back to the same grid.
        var written = SweepSpec.ReadYaml(dir["mnist/sweeps/fromoptions/sweep.yaml"]);
        Assert.Equal(Json(a.Spec), Json(written));

        // Planning the same grid again is fine; another grid under the same name is refused.
        Assert.Equal(0, (await LatentCommand.RunAsync(["sweep", "plan", "fromfile", "--file", ExampleGrid, .. Common(dir)])).Exit);
        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "plan", "fromfile", "--model", "vae", .. Common(dir)]);
        Assert.Equal(2, exit);
        Assert.Contains("already planned", error);
    }

    static string Json(SweepSpec spec) => LatentLab.IO.Json.Serialize(spec);

    /// <summary>Priors are one more axis of the grid for the VAEs, the sampler a setting of the AEs; a point trains,
    /// measures and names its prior, and the sweep file round-trips them.</summary>
    [Fact]
    public async Task PriorsAreAnAxisOfTheGridAndTheAeSamplerASetting()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["grid.yaml"], "models: [vae, ae]\nlatent_dims: [2]\nseeds: [0]\nepochs: 1\nthreads: 1\niwae_k: 5\n" +
                                            "priors: [standard, mog]\nprior_components: 3\nsampler: gmm\nsampler_components: 2\n");
        var (exit, output, error) = await LatentCommand.RunAsync(["sweep", "plan", "priors", "--file", dir["grid.yaml"], .. Common(dir)]);
        Assert.True(exit == 0, error);
        Assert.Contains("3 points (2 VAE, 1 AE)", output);
        var plan = SweepPlan.Read(dir["mnist/sweeps/priors"]);
        Assert.Equal(["runs/000-vae-z2-beta1-seed0", "runs/001-vae-z2-beta1-mog3-seed0", "runs/002-ae-z2-gmm2-seed0"], plan.Points.Select(p => p.Folder));
        Assert.Equal("mog", plan.Points[1].Config.Prior);
        Assert.Equal(3, plan.Points[1].Config.PriorComponents);
        Assert.Equal("gmm", plan.Points[2].Config.Sampler);
        Assert.Equal(Json(plan.Spec), Json(SweepSpec.ReadYaml(dir["mnist/sweeps/priors/sweep.yaml"])));

        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "run", "priors", "--index", "1", .. Common(dir)]);
        Assert.True(exit == 0, error);
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["mnist/sweeps/priors/runs/001-vae-z2-beta1-mog3-seed0/metrics.json"]));
        Assert.True(metrics.RootElement.GetProperty("test_log_px_exact").GetDouble() < 0);

        File.WriteAllText(dir["bad.yaml"], "models: [vae]\npriors: [standard, flat]\n");
        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "plan", "bad", "--file", dir["bad.yaml"], .. Common(dir)]);
        Assert.Equal(2, exit);
        Assert.Contains("priors: --prior must be one of", error);
    }

    /// <summary>Posterior families are an axis of the grid for the VAEs: a flow point trains, measures its exact 2-d
    /// log p(x) and names its flow, and the sweep file round-trips them.</summary>
    [Fact]
    public async Task PosteriorsAreAnAxisOfTheGrid()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["grid.yaml"], "models: [vae, ae]\nlatent_dims: [2]\nseeds: [0]\nepochs: 1\nthreads: 1\niwae_k: 5\n" +
                                            "posteriors: [gaussian, planar]\nflow_steps: 2\n");
        var (exit, output, error) = await LatentCommand.RunAsync(["sweep", "plan", "flows", "--file", dir["grid.yaml"], .. Common(dir)]);
        Assert.True(exit == 0, error);
        Assert.Contains("3 points (2 VAE, 1 AE)", output);
        var plan = SweepPlan.Read(dir["mnist/sweeps/flows"]);
        Assert.Equal(["runs/000-vae-z2-beta1-seed0", "runs/001-vae-z2-beta1-planar2-seed0", "runs/002-ae-z2-seed0"], plan.Points.Select(p => p.Folder));
        Assert.Equal("planar", plan.Points[1].Config.Posterior);
        Assert.Equal(2, plan.Points[1].Config.FlowSteps);
        Assert.Equal(Json(plan.Spec), Json(SweepSpec.ReadYaml(dir["mnist/sweeps/flows/sweep.yaml"])));

        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "run", "flows", "--index", "1", .. Common(dir)]);
        Assert.True(exit == 0, error);
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["mnist/sweeps/flows/runs/001-vae-z2-beta1-planar2-seed0/metrics.json"]));
        double exact = metrics.RootElement.GetProperty("test_log_px_exact").GetDouble(), bound = metrics.RootElement.GetProperty("test_log_px_iwae").GetDouble();
        Assert.True(bound < exact + 0.5, $"the k = 5 bound {bound} is above the exact value {exact}");

        File.WriteAllText(dir["bad.yaml"], "models: [vae]\nposteriors: [gaussian, realnvp]\n");
        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "plan", "bad", "--file", dir["bad.yaml"], .. Common(dir)]);
        Assert.Equal(2, exit);
        Assert.Contains("posteriors: --posterior must be one of", error);
    }

    /// <summary>β-TCVAE weights add points beside the betas'; on data with factors, collect puts the scores in sweep.csv
    /// and draws MIG against reconstruction.</summary>
    [Fact]
    public async Task TotalCorrelationWeightsAreObjectivesOfTheGridAndTheScoresAreCollected()
    {
        using var dir = new TempDir();
        var folder = LatentLab.Tests.Data.FactorsCsvTests.Folder(dir);
        File.WriteAllText(dir["grid.yaml"], $"dataset: '{folder}'\nmodels: [vae]\nlatent_dims: [4]\nbetas: [1, 4]\ntc_weights: [6]\ngammas: [10]\nseeds: [0]\nepochs: 1\nthreads: 1\niwae_k: 0\n");
        string[] common = ["--data-dir", dir["data"], "--out", dir.Path];      // the folder's decoded cache goes to data/
        var (exit, _, error) = await LatentCommand.RunAsync(["sweep", "plan", "tc", "--file", dir["grid.yaml"], .. common]);
        Assert.True(exit == 0, error);
        var plan = SweepPlan.Read(dir["shapes/sweeps/tc"]);
        Assert.Equal(["runs/000-vae-z4-beta1-seed0", "runs/001-vae-z4-beta4-seed0", "runs/002-vae-z4-tc6-seed0", "runs/003-vae-z4-gamma10-seed0"],
            plan.Points.Select(p => p.Folder));
        Assert.Equal(10, plan.Points[3].Config.Gamma);
        Assert.Equal(6, plan.Points[2].Config.TcWeight);
        Assert.Equal(1, plan.Points[2].Config.Beta);
        Assert.Equal(Json(plan.Spec), Json(SweepSpec.ReadYaml(dir["shapes/sweeps/tc/sweep.yaml"])));

        (exit, var output, error) = await LatentCommand.RunAsync(["sweep", "run", "tc", "--index", "2", .. common]);
        Assert.True(exit == 0, error);
        // No precision in the file: auto, resolved where the point runs, and said.
        Assert.Contains($"precision: {Precisions.Resolve(PrecisionChoice.Auto).Name()} (auto: ", output);
        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "collect", "tc", "--out", dir.Path]);
        Assert.True(exit == 0, error);
        var csv = File.ReadAllLines(dir["shapes/sweeps/tc/sweep.csv"]);
        var header = csv[0].Split(',');
        var row = csv[1].Split(',');
        Assert.Equal("6", row[Array.IndexOf(header, "tc_weight")]);
        Assert.InRange(double.Parse(row[Array.IndexOf(header, "mig")], System.Globalization.CultureInfo.InvariantCulture), 0, 1);
        Assert.True(File.Exists(dir["shapes/sweeps/tc/figures/mig_reconstruction.png"]));
    }

    [Theory]
    [InlineData("models: [vae, vea]", "models: unknown model 'vea'")]
    [InlineData("models: []", "models is empty")]
    [InlineData("models: [vae]\nbetas: [1, 0]", "betas: 0 is not a beta > 0")]
    [InlineData("models: [vae]\nbetas: [-2]", "betas: -2 is not a beta > 0")]
    [InlineData("models: [vae]\nseeds: []", "seeds is empty")]
    [InlineData("models: [vae]\nlatent_dim: [2, 4]", "unknown key 'latent_dim' (line 2); did you mean 'latent_dims'?")]
    [InlineData("models: [vae]\nepochs: two", "epochs (line 2): 'two' is not a whole number")]
    [InlineData("models: [vae]\nlatent_dims: [2, 2]", "latent_dims names 2 twice")]
    [InlineData("models: [vae\n", "not valid YAML")]
    [InlineData("models: [vae]\nprecision: fp16", "precision must be fp32, bf16 or auto, got 'fp16'")]
    public async Task ABadSweepFileIsRefusedWithOneLineNamingTheFileAndKey(string yaml, string expected)
    {
        using var dir = new TempDir();
        var file = dir["bad.yaml"];
        File.WriteAllText(file, yaml);
        var (exit, _, error) = await LatentCommand.RunAsync(["sweep", "plan", "bad", "--file", file, .. Common(dir)]);
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(file, error);
        Assert.Contains(expected, error);
        Assert.False(Directory.Exists(dir["mnist/sweeps/bad"]));
    }

    [Theory]
    [InlineData(new[] { "--model", "vae,nope" }, "unknown model 'nope'")]
    [InlineData(new[] { "--model", "vae", "--beta", "1,-1" }, "betas: -1 is not a beta > 0")]
    [InlineData(new[] { "--model", "vae", "--seed", "" }, "--seed is empty")]
    [InlineData(new[] { "--model", "vae", "--latent-dim", "2,x" }, "--latent-dim: 'x' is not a whole number")]
    [InlineData(new[] { "--latent-dim", "2" }, "needs --model")]
    public async Task ABadGridOnTheCommandLineIsRefused(string[] grid, string expected)
    {
        using var dir = new TempDir();
        var (exit, _, error) = await LatentCommand.RunAsync(["sweep", "plan", "bad", .. grid, .. Common(dir)]);
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task AnIndexOutOfRangeOrABadEnvironmentIndexIsRefusedBeforeAnyTraining()
    {
        using var dir = new TempDir();
        Assert.Equal(0, (await LatentCommand.RunAsync(["sweep", "plan", "s", "--file", ExampleGrid, .. Common(dir)])).Exit);
        var (exit, _, error) = await LatentCommand.RunAsync(["sweep", "run", "s", "--index", "12", .. Common(dir)]);
        Assert.Equal(2, exit);
        Assert.Contains("sweep s has points 0 to 11; there is no index 12", error);
        Assert.False(Directory.Exists(dir["mnist/sweeps/s/runs"]));
        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "run", "nosuch", .. Common(dir)]);
        Assert.Equal(2, exit);
        Assert.Contains("no sweep named nosuch", error);
    }

    [Fact]
    public async Task APointBeingRunIsNotRunTwiceAtOnce()
    {
        using var dir = new TempDir();
        Assert.Equal(0, (await LatentCommand.RunAsync(["sweep", "plan", "s", "--file", ExampleGrid, .. Common(dir)])).Exit);
        using (RunLock.Acquire(dir["mnist/sweeps/s/locks/003"]))
        {
            var (exit, _, error) = await LatentCommand.RunAsync(["sweep", "run", "s", "--index", "3", .. Common(dir)]);
            Assert.Equal(2, exit);
            Assert.Contains("point 3 of sweep s is being run by another process", error);
        }
        var (ok, output, _) = await LatentCommand.RunAsync(["sweep", "run", "s", "--index", "3", .. Common(dir)]);
        Assert.Equal(0, ok);
        Assert.Contains("point 3 done", output);
        Assert.True(File.Exists(dir["mnist/sweeps/s/runs/003-vae-z2-beta2-seed1/metrics.json"]));
        (ok, output, _) = await LatentCommand.RunAsync(["sweep", "run", "s", "--index", "3", .. Common(dir)]);
        Assert.Equal(0, ok);
        Assert.Contains("done already", output);
    }

    [Fact]
    public async Task TheExportedJobParsesBackThroughTheKubernetesClient()
    {
        using var dir = new TempDir();
        Assert.Equal(0, (await LatentCommand.RunAsync(["sweep", "plan", "grid-1", "--file", ExampleGrid, .. Common(dir)])).Exit);
        var (exit, _, error) = await LatentCommand.RunAsync(["sweep", "export", "grid-1", "--to", "kubernetes", "--parallel", "3",
            "--backoff-limit-per-index", "2", "--image", "registry.example/latentlab:1", .. Common(dir)]);
        Assert.True(exit == 0, error);
        var job = KubernetesYaml.Deserialize<V1Job>(File.ReadAllText(dir["mnist/sweeps/grid-1/job.yaml"]));
        Assert.Equal("batch/v1", job.ApiVersion);
        Assert.Equal("Indexed", job.Spec.CompletionMode);
        Assert.Equal(12, job.Spec.Completions);
        Assert.Equal(3, job.Spec.Parallelism);
        Assert.Equal(2, job.Spec.BackoffLimitPerIndex);
        Assert.Equal("Never", job.Spec.Template.Spec.RestartPolicy);
        var container = Assert.Single(job.Spec.Template.Spec.Containers);
        Assert.Equal("registry.example/latentlab:1", container.Image);
        Assert.Equal(["latent", "sweep", "run", "grid-1", "--dataset", "mnist", "--out", "/work/results", "--data-dir", "/work/data", "--threads", "1"], container.Command);
        Assert.Equal("latentlab", Assert.Single(job.Spec.Template.Spec.Volumes).PersistentVolumeClaim.ClaimName);

        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "export", "grid-1", "--to", "slurm", "--parallel", "2", .. Common(dir)]);
        Assert.True(exit == 0, error);
        var script = File.ReadAllText(dir["mnist/sweeps/grid-1/sweep.sbatch"]);
        Assert.Contains("#SBATCH --array=0-11%2", script);
        Assert.Contains("sweep run grid-1 --dataset mnist", script);
        (exit, _, error) = await LatentCommand.RunAsync(["sweep", "export", "grid-1", "--to", "nomad", .. Common(dir)]);
        Assert.Equal(2, exit);
        Assert.Contains("--to must be kubernetes or slurm", error);
    }
}
