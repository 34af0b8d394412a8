using System.Globalization;
using System.Text;
using k8s;
using k8s.Models;
using LatentLab.Sweeps;

namespace LatentLab.Cli.Commands;

/// <summary>What a cluster needs to run a planned sweep, with the sweep's own size written in: a Kubernetes Indexed Job
/// (built from the official client's models, serialized by its YAML serializer) or a Slurm array script. Each point
/// runs <c>latent sweep run NAME</c>, which reads its index from the engine's environment.</summary>
public static class SweepExport
{
    /// <summary>A batch/v1 Job, completionMode Indexed: completions = the points, the results and data on one
    /// PersistentVolumeClaim mounted at /work.</summary>
    public static string KubernetesJob(SweepPlan plan, string image, string claim, int parallelism, int backoffLimitPerIndex,
        string resultsRoot, string dataDir)
    {
        int threads = plan.Spec.Threads ?? 1;
        var job = new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = JobName(plan.Name),
                Labels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "latentlab", ["latentlab/sweep"] = LabelValue(plan.Name) },
            },
            Spec = new V1JobSpec
            {
                CompletionMode = "Indexed",
                Completions = plan.Points.Count,
                Parallelism = Math.Min(parallelism, plan.Points.Count),
                BackoffLimitPerIndex = backoffLimitPerIndex,
                Template = new V1PodTemplateSpec
                {
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "point",
                                Image = image,
                                // Kubernetes sets JOB_COMPLETION_INDEX in each pod of an Indexed Job: the point it runs.
                                Command = ["latent", "sweep", "run", plan.Name, "--dataset", plan.Dataset, "--out", resultsRoot, "--data-dir", dataDir,
                                    "--threads", threads.ToString(CultureInfo.InvariantCulture)],
                                Resources = new V1ResourceRequirements
                                {
                                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(threads.ToString(CultureInfo.InvariantCulture)), ["memory"] = new("3Gi") },
                                    Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("4Gi") },
                                },
                                VolumeMounts = [new V1VolumeMount { Name = "work", MountPath = "/work" }],
                            },
                        ],
                        Volumes = [new V1Volume { Name = "work", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim } }],
                    },
                },
            },
        };
        return $"# Written by `latent sweep export {plan.Name} --to kubernetes`: {plan.Points.Count} points of sweep {plan.Name} on {plan.Dataset}.\n"
               + $"# The claim '{claim}' must hold the planned sweep at {resultsRoot}/{plan.Dataset}/sweeps/{plan.Name}/sweep.json and the data at {dataDir}.\n"
               + KubernetesYaml.Serialize(job).TrimEnd('\n') + "\n";
    }

    /// <summary>An sbatch script: an array of one task per point, at most <paramref name="parallel"/> at once.</summary>
    public static string SlurmScript(SweepPlan plan, string latent, int parallel, string resultsRoot, string dataDir, string logFolder)
    {
        int threads = plan.Spec.Threads ?? 1;
        var script = new StringBuilder();
        script.AppendLine("#!/bin/bash");
        script.AppendLine($"#SBATCH --job-name={JobName(plan.Name)}");
        script.AppendLine($"#SBATCH --array=0-{plan.Points.Count - 1}%{parallel}");
        script.AppendLine($"#SBATCH --cpus-per-task={threads}");
        script.AppendLine("#SBATCH --ntasks=1");
        script.AppendLine($"#SBATCH --output={logFolder}/slurm-%A_%a.out");
        script.AppendLine($"# Written by `latent sweep export {plan.Name} --to slurm`: {plan.Points.Count} points of sweep {plan.Name} on {plan.Dataset}.");
        script.AppendLine("# Each array task runs the point SLURM_ARRAY_TASK_ID names; a task that is killed resumes from its checkpoint when resubmitted.");
        script.AppendLine("set -euo pipefail");
        script.AppendLine($"exec {latent} sweep run {ShellQuote(plan.Name)} --dataset {ShellQuote(plan.Dataset)} --out {ShellQuote(resultsRoot)} --data-dir {ShellQuote(dataDir)} --threads \"${{SLURM_CPUS_PER_TASK:-{threads}}}\"");
        return script.ToString();
    }

    public static string ShellQuote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '=' or ':' or ',') ? s : "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>A DNS-1123 name: lower case letters, digits and '-', at most 63 characters.</summary>
    static string JobName(string sweep)
    {
        var name = new string(("latentlab-" + sweep.ToLowerInvariant()).Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        return name.Length > 63 ? name[..63].TrimEnd('-') : name;
    }

    static string LabelValue(string sweep) => JobName(sweep)["latentlab-".Length..];
}
