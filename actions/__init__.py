"""The action server's actions (`python -m actions.server --actions actions` imports this
package first): its log lines are masked like every Teranga process's."""

from teranga.privacy.logs import mask_personal_data_in_logs

mask_personal_data_in_logs()
