"""nbgrader configuration of the course (run every nbgrader command from this directory, `assignments/`).

Paths are relative to the course directory, which is the current directory (`CourseDirectory.root` defaults to
it); the gradebook is therefore `<root>/gradebook.db` (nbgrader's default `sqlite:///<root>/gradebook.db`,
resolved to an absolute path at run time, so it is not written here).
"""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "optdl"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# Per-cell time limit when validating/autograding. A cell that runs over it is interrupted and errors, so the
# student loses that cell's points but the rest of the notebook is still graded (interrupt_on_timeout stays at its
# default, True: setting it to False would drop the whole submission).
c.Execute.timeout = 120

# Feedback must not reveal hidden tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
